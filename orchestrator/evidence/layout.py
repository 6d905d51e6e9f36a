"""The fixed layout of an evidence package: file names, the name pattern, safe member paths
(MANIFEST.sha256 lines: evidence/manifest_lines.py).

```
<kind>-<YYYYmmddTHHMMSSZ>-<short id>/
  report.html  report.json  events/*.jsonl  manifests/*.json
  SIGNER.pub.pem  PREVIOUS  MANIFEST.sha256  MANIFEST.sha256.sig
```
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import PurePosixPath

KINDS = ("drill", "verify", "report")
REPORT_JSON = "report.json"
REPORT_HTML = "report.html"
REPORT_PDF = "report.pdf"  # optional: the report package's printable copy of report.html
SIGNER_PUBLIC_KEY = "SIGNER.pub.pem"
PREVIOUS = "PREVIOUS"
MANIFEST = "MANIFEST.sha256"
SIGNATURE = "MANIFEST.sha256.sig"
CHAIN = "chain.jsonl"
TARBALL_SUFFIX = ".tar.gz"
TEMPORARY_PREFIX = ".tmp-"
ZERO_DIGEST = "0" * 64
# Files every package lists in its manifest.
REQUIRED_FILES = (REPORT_HTML, REPORT_JSON, SIGNER_PUBLIC_KEY, PREVIOUS)
# Attachment folders and the suffix their files must carry.
ATTACHMENT_SUFFIXES = {"events": ".jsonl", "manifests": ".json"}

TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"
PACKAGE_NAME_PATTERN = re.compile(r"^(drill|verify|report)-(\d{8}T\d{6}Z)-([0-9a-f]{6,})$")
DIGEST_PATTERN = re.compile(r"^[0-9a-f]{64}$")
SAFE_PART_PATTERN = re.compile(r"^[A-Za-z0-9._@+=-]+$")


def make_package_name(kind: str, created_at: datetime, short_id: str) -> str:
    """Given a kind, an aware creation time and a short hex id, return the package name.

    Raise ValueError if the kind is unknown or the time is naive.
    """
    if kind not in KINDS:
        raise ValueError(f"evidence kind {kind!r}: expected one of {', '.join(KINDS)}")
    if created_at.tzinfo is None:
        raise ValueError(f"evidence time {created_at.isoformat()}: expected a timezone-aware time")
    return f"{kind}-{created_at.astimezone(UTC).strftime(TIMESTAMP_FORMAT)}-{short_id}"


def validate_member_path(path: str) -> list[str]:
    """Given a path inside a package, return why it is unsafe (empty list if it is safe).

    Safe means relative, POSIX, no `.`/`..`/empty parts, no backslashes or control characters,
    and only plain file-name characters, so it prints unambiguously in MANIFEST.sha256.
    """
    problems = []
    if not path:
        return ["empty path"]
    if path.startswith("/"):
        problems.append("absolute path")
    if "\\" in path:
        problems.append("backslash in path")
    parts = path.removeprefix("/").split("/")
    if any(part in ("", ".", "..") for part in parts):
        problems.append("empty, '.' or '..' part")
    if any(not SAFE_PART_PATTERN.match(part) for part in parts if part not in ("", ".", "..")):
        problems.append("characters outside [A-Za-z0-9._@+=-]")
    return problems


def validate_attachment_path(path: str) -> PurePosixPath:
    """Given the relative path an attachment is to have in a package, return it as a path.

    Raise ValueError if it is unsafe, not under events/ or manifests/, or lacks the folder's
    suffix (.jsonl for events, .json for manifests).
    """
    problems = validate_member_path(path)
    if problems:
        raise ValueError(f"attachment path {path!r}: {'; '.join(problems)}")
    relative = PurePosixPath(path)
    folder = relative.parts[0]
    if len(relative.parts) < 2 or folder not in ATTACHMENT_SUFFIXES:
        raise ValueError(
            f"attachment path {path!r}: expected a file under "
            f"{' or '.join(f'{name}/' for name in ATTACHMENT_SUFFIXES)}"
        )
    if relative.suffix != ATTACHMENT_SUFFIXES[folder]:
        raise ValueError(
            f"attachment path {path!r}: files under {folder}/ must end in "
            f"{ATTACHMENT_SUFFIXES[folder]}"
        )
    return relative
