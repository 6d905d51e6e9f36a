"""Who ran it and against what: the facts every package records beside its report (R1, R161).

* `operator`: the account that ran drctl (the effective user from the password database, not
  the spoofable $USER), the sudo caller if any, and the host name.
* `versions`: drctl, Python and ansible-core; the **playbooks** as one digest of the tree (see
  `playbooks_digest`, which an auditor recomputes with find and sha256sum); the **target
  systems** as the database server versions the engine modules reported (`server_version` in
  their `dr_result`), read from the package's own events files (evidence/target_versions.py).
* `calendar`: the working-day calendar the rules counted with: the chinesecalendar package
  version and the years it covers, and the site's override file with its sha256.
"""

from __future__ import annotations

import hashlib
import os
import platform
import pwd
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from orchestrator import __version__

# Files under playbooks/ that are not part of what runs: Python's byte-code caches and
# anything hidden (ansible's own .ansible/ scratch directory). The auditor recipe in
# docs/auditor-guide.md excludes exactly these.
CACHE_DIRECTORY = "__pycache__"
CACHE_SUFFIX = ".pyc"


def operator_identity() -> dict[str, Any]:
    """Return the account and host running this process, for the package metadata."""
    uid = os.geteuid()
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:
        user = f"uid {uid}"
    identity: dict[str, Any] = {"user": user, "uid": uid, "host": socket.gethostname()}
    sudo_user = os.environ.get("SUDO_USER")
    if sudo_user:
        identity["sudo_user"] = sudo_user  # as sudo reported it
    return identity


def playbook_files(root: Path) -> list[str]:
    """Given the playbooks directory, return the relative paths of its files, sorted bytewise.

    Byte-code caches and hidden files or directories are left out; a symlink is listed as
    the file it points to (find -type f does not follow it, so none are expected).
    """
    files = []
    for directory, subdirectories, names in os.walk(root):
        subdirectories[:] = [
            name for name in subdirectories if not name.startswith(".") and name != CACHE_DIRECTORY
        ]
        for name in names:
            path = Path(directory) / name
            if name.startswith(".") or name.endswith(CACHE_SUFFIX) or not path.is_file():
                continue
            files.append(path.relative_to(root).as_posix())
    return sorted(files, key=lambda relative: relative.encode("utf-8"))


def playbooks_digest(root: Path) -> dict[str, Any]:
    """Given the playbooks directory, return {"sha256", "files"} for the whole tree.

    The digest is the sha256 of what `sha256sum` prints for every file in bytewise path
    order, so an auditor with the same tree gets it with
    `find . -type f ! -path '*/.*' ! -path '*/__pycache__/*' ! -name '*.pyc' -printf '%P\\0'
    | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum`.
    """
    listing = hashlib.sha256()
    files = playbook_files(root)
    for relative in files:
        digest = hashlib.sha256((root / relative).read_bytes()).hexdigest()
        listing.update(f"{digest}  {relative}\n".encode())
    return {"sha256": listing.hexdigest(), "files": len(files)}


def software_versions(playbooks: Path) -> dict[str, Any]:
    """Return the versions of what ran: drctl, Python, ansible-core and the playbooks tree."""
    import ansible.release

    return {
        "orchestrator": __version__,
        "python": platform.python_version(),
        "ansible_core": ansible.release.__version__,
        "playbooks": playbooks_digest(playbooks),
    }


def calendar_source(
    overrides: Path | None, package_version: str, package_years: Sequence[int]
) -> dict[str, Any]:
    """Given the site's calendar override file (or None), and the chinesecalendar package's
    version and the years it knows (rules.workdays), return where the calendar comes from.

    Raise OSError if the override file cannot be read.
    """
    source: dict[str, Any] = {
        "package": "chinesecalendar",
        "package_version": package_version,
        "package_years": [package_years[0], package_years[-1]],
        "overrides": None,
    }
    if overrides is not None:
        source["overrides"] = {
            "path": str(overrides),
            "sha256": hashlib.sha256(overrides.read_bytes()).hexdigest(),
        }
    return source
