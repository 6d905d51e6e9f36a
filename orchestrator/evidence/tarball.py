"""The `.tar.gz` twin of a package directory: written reproducibly, extracted defensively.

Members are sorted, owned by 0:0 with no user names, mode 0644/0755, stamped with the
package's creation time, and the gzip header carries that time and no file name, so the same
directory gives the same bytes. Extraction refuses absolute paths, `..`, links, devices and
anything outside the single top-level directory, before writing a byte.
"""

from __future__ import annotations

import gzip
import shutil
import tarfile
from pathlib import Path

from orchestrator.evidence.layout import validate_member_path

FILE_MODE = 0o644
DIRECTORY_MODE = 0o755
# A package holds reports, events and manifests, never data; anything near this is hostile.
MAX_EXTRACTED_BYTES = 4 * 1024**3


def write_tarball(directory: Path, destination: Path, mtime: int) -> None:
    """Given a package directory, write it as `<name>/...` into a gzip tarball at destination.

    Raise ValueError if the directory holds a symlink or something other than files and
    directories.
    """
    paths = sorted(directory.rglob("*"), key=lambda path: path.relative_to(directory).as_posix())
    with destination.open("wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=mtime) as compressed:
            with tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT) as tar:
                tar.addfile(_member(directory.name, tarfile.DIRTYPE, 0, mtime))
                for path in paths:
                    name = f"{directory.name}/{path.relative_to(directory).as_posix()}"
                    if path.is_symlink():
                        raise ValueError(f"{path}: symlinks are not allowed in a package")
                    if path.is_dir():
                        tar.addfile(_member(name, tarfile.DIRTYPE, 0, mtime))
                    elif path.is_file():
                        member = _member(name, tarfile.REGTYPE, path.stat().st_size, mtime)
                        with path.open("rb") as stream:
                            tar.addfile(member, stream)
                    else:
                        raise ValueError(f"{path}: only files and directories go in a package")
        raw.flush()


def _member(name: str, kind: bytes, size: int, mtime: int) -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.type = kind
    member.size = size
    member.mtime = mtime
    member.mode = DIRECTORY_MODE if kind == tarfile.DIRTYPE else FILE_MODE
    member.uid = member.gid = 0
    member.uname = member.gname = ""
    return member


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
