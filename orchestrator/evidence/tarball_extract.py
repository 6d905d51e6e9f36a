"""Extracting a package's `.tar.gz` defensively: absolute paths, `..`, links, devices, anything
outside the single top-level directory and oversized contents are refused before a byte is
written.

The whole file is read, not only up to the archive's end marker (where `tarfile` and `tar -x`
stop): bytes after it (a second gzip stream holding files `tar -i` extracts, data in the
padding) are in no manifest, and a broken gzip trailer (CRC, length) makes `tar -xzf`, the
auditor guide's own recipe, fail. Either refuses the tarball.
"""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

from orchestrator.evidence.layout import validate_member_path

# A package holds reports, events and manifests, never data; anything near this is hostile.
MAX_EXTRACTED_BYTES = 4 * 1024**3
# After the end marker a tar writer pads with zeros to its record size (drctl's: 10 KiB; GNU
# tar's largest blocking factor: 64 KiB); more is not padding.
MAX_PADDING_BYTES = 1024 * 1024


def check_tar_members(members: list[tarfile.TarInfo]) -> tuple[str | None, list[str]]:
    """Given a tarball's members, return its single top-level directory name and problems.

    Problems name each refused member: absolute or `..` paths, links, devices, FIFOs,
    members outside one top-level directory, and a total size above MAX_EXTRACTED_BYTES.
    """
    problems = []
    tops: set[str] = set()
    total = 0
    seen: set[str] = set()
    for member in members:
        name = member.name.removesuffix("/") if member.isdir() else member.name
        unsafe = validate_member_path(name)
        if unsafe:
            problems.append(f"tar member {member.name!r} refused: {'; '.join(unsafe)}")
            continue
        if name in seen:
            problems.append(f"tar member {member.name!r} refused: appears twice")
            continue
        seen.add(name)
        if not (member.isfile() or member.isdir()):
            problems.append(f"tar member {member.name!r} refused: only files and directories")
            continue
        tops.add(name.split("/", 1)[0])
        total += member.size
    if total > MAX_EXTRACTED_BYTES:
        problems.append(f"tarball refused: {total} bytes expand past {MAX_EXTRACTED_BYTES}")
    if len(tops) > 1:
        problems.append(f"tarball refused: expected one top-level directory, found {sorted(tops)}")
    if not tops and not problems:
        problems.append("tarball refused: it is empty")
    top = next(iter(tops)) if len(tops) == 1 else None
    return top, problems


def extract_tarball(tarball: Path, destination: Path) -> tuple[Path | None, list[str]]:
    """Given a package tarball and an empty directory, extract it there if every member is safe.

    Return the extracted package directory (None if refused) and the problems found. Nothing
    is written when any member is refused.
    """
    try:
        with tarfile.open(tarball, mode="r:gz") as tar:
            members = tar.getmembers()
            top, problems = check_tar_members(members)
            problems.extend(_trailing_problems(tar))
            if problems or top is None:
                return None, [f"{tarball.name}: {problem}" for problem in problems]
            for member in members:
                target = destination.joinpath(*member.name.removesuffix("/").split("/"))
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                if source is None:
                    return None, [f"{tarball.name}: tar member {member.name!r} has no content"]
                with source, target.open("xb") as output:
                    shutil.copyfileobj(source, output)
    except (tarfile.TarError, OSError, EOFError) as error:
        return None, [f"{tarball.name}: not a readable .tar.gz: {error}"]
    return destination / top, []


def _trailing_problems(tar: tarfile.TarFile) -> list[str]:
    """Given a tarball whose members were read, read the rest of its gzip stream to the end
    (which checks the gzip trailer) and return a problem when it holds more than zero padding.
    Raise OSError or EOFError when the gzip stream is broken or cut short."""
    stream = tar.fileobj
    assert stream is not None
    stream.seek(tar.offset)
    rest = stream.read(MAX_PADDING_BYTES + 1)
    if len(rest) > MAX_PADDING_BYTES or rest.strip(b"\0"):
        return [
            "tarball refused: it holds data after the end of the archive, which no manifest "
            "lists (files `tar -i` would extract, or bytes hidden in the padding)"
        ]
    return []
