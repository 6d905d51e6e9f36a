"""The `.tar.gz` twin of a package directory, written reproducibly (and extracted defensively:
evidence/tarball_extract.py).

Members are sorted, owned by 0:0 with no user names, mode 0644/0755, stamped with the
package's creation time, and the gzip header carries that time and no file name, so the same
directory gives the same bytes.
"""

from __future__ import annotations

import gzip
import tarfile
from pathlib import Path

FILE_MODE = 0o644
DIRECTORY_MODE = 0o755


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
