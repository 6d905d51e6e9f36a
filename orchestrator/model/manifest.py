"""Recovery-point manifests: build, serialise, parse (refusing hostile input), hash.

A manifest is written last into a recovery point, so a recovery point without one is
incomplete and never counts. Its digests were computed on the source host at backup time;
every later step compares against them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

FORMAT_VERSION = 1
ENCRYPTED_FORMAT_VERSION = 2  # an older drctl refuses an encrypted point instead of misreading
HASH_ALGORITHMS = ("sha256", "sm3")
RECOVERY_POINT_ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{6}$")
HEX_DIGEST = re.compile(r"^[0-9a-f]{64}$")
# A single artifact larger than this is absurd for a manifest we are asked to trust.
MAX_FILE_BYTES = 1 << 50
MAX_FILES = 1_000_000
CHUNK_BYTES = 64 << 20
HEADER_STRINGS = (
    "recovery_point_id",
    "system",
    "dataset",
    "engine",
    "business_date",
    "started_at",
    "finished_at",
    "source_site",
    "source_host",
    "hash_algorithm",
)
ENCRYPTION_FIELDS = {
    "scheme": re.compile(r"drctl-envelope-v1"),
    "cipher": re.compile(r"aes-256-gcm|sm4-gcm"),
    "kek_id": re.compile(r"[0-9a-f]{16}"),
    "key_check": re.compile(r"[0-9a-f]{64}"),
    "wrapped_key": re.compile(r"[0-9a-f]{48}|[0-9a-f]{80}"),  # AES key wrap of 16 or 32 bytes
}


class ManifestError(ValueError):
    """A manifest is malformed or hostile; carries every problem found."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class FileEntry:
    """One artifact file: relative path under data/, size, digest, per-chunk digests (all of
    the plaintext, taken at the source: what a restore is checked against), and for an
    encrypted point the stored (ciphertext) size and digest (what is checked without a key)."""

    path: str
    size: int
    digest: str
    chunk_digests: tuple[str, ...] = ()
    stored_size: int | None = None
    stored_digest: str | None = None

    @property
    def at_rest_size(self) -> int:
        """The size of the object in the store."""
        return self.size if self.stored_size is None else self.stored_size

    @property
    def at_rest_digest(self) -> str:
        """The digest of the object in the store."""
        return self.digest if self.stored_digest is None else self.stored_digest


@dataclass(frozen=True)
class Encryption:
    """How an encrypted point's files are sealed: the envelope scheme, the cipher, the id of
    the key-encryption key that wrapped the data key, the data key's key-check value and the
    wrapped data key (hex)."""

    scheme: str
    cipher: str
    kek_id: str
    key_check: str
    wrapped_key: str


@dataclass(frozen=True)
class Manifest:
    recovery_point_id: str
    system: str
    dataset: str
    engine: str
    business_date: str
    started_at: str
    finished_at: str
    source_site: str
    source_host: str
    hash_algorithm: str
    files: tuple[FileEntry, ...]
    fingerprint: Mapping[str, Any] = field(default_factory=dict)
    kind: str = "full"
    format_version: int = FORMAT_VERSION
    encryption: Encryption | None = None
    signed_by: str | None = None  # the signing key's fingerprint: the .sig is due (point_signature)

    @property
    def total_bytes(self) -> int:
        return sum(entry.size for entry in self.files)

    @property
    def stored_bytes(self) -> int:
        """Bytes the point occupies in a store (the ciphertext when encrypted)."""
        return sum(entry.at_rest_size for entry in self.files)

    def file(self, path: str) -> FileEntry | None:
        return next((entry for entry in self.files if entry.path == path), None)


_DRIVE = re.compile(r"^[A-Za-z]:")


def check_relative_path(path: object, where: str) -> list[str]:
    """Given a manifest path, return problems if it is not a plain relative path."""
    if not isinstance(path, str) or not path:
        return [f"{where}: expected a non-empty relative path"]
    # Plain str tests (a scan checks every path of every manifest): a POSIX path is absolute
    # when it starts with "/", which is all PurePosixPath.is_absolute looks at.
    if path.startswith(("/", "\\")) or _DRIVE.match(path):
        return [f"{where}: {path!r} is absolute; expected a relative path"]
    if any(part in ("..", ".", "") for part in path.split("/")) or "\\" in path or "\x00" in path:
        return [f"{where}: {path!r} leaves the recovery point; '..', '.', '\\' are refused"]
    return []


def make_manifest_dict(manifest: Manifest) -> dict[str, Any]:
    """Given a Manifest, return its JSON-able dict (stable key order)."""
    return {
        "format_version": manifest.format_version,
        "kind": manifest.kind,
        "recovery_point_id": manifest.recovery_point_id,
        "system": manifest.system,
        "dataset": manifest.dataset,
        "engine": manifest.engine,
        "business_date": manifest.business_date,
        "started_at": manifest.started_at,
        "finished_at": manifest.finished_at,
        "source_site": manifest.source_site,
        "source_host": manifest.source_host,
        "hash_algorithm": manifest.hash_algorithm,
        "files": [
            {
                "path": entry.path,
                "size": entry.size,
                "digest": entry.digest,
                **({"chunk_digests": list(entry.chunk_digests)} if entry.chunk_digests else {}),
                **(
                    {"stored_size": entry.stored_size, "stored_digest": entry.stored_digest}
                    if entry.stored_digest is not None
                    else {}
                ),
            }
            for entry in manifest.files
        ],
        "fingerprint": dict(manifest.fingerprint),
        **({"encryption": asdict(manifest.encryption)} if manifest.encryption else {}),
        **({"signed_by": manifest.signed_by} if manifest.signed_by else {}),
    }


def serialise_manifest(manifest: Manifest) -> bytes:
    """Return the canonical bytes of a manifest (what its digest is taken over)."""
    text = json.dumps(make_manifest_dict(manifest), indent=2, sort_keys=True, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def manifest_digest(data: bytes) -> str:
    """Return the sha256 hex digest of manifest bytes, as kept in the catalog and evidence."""
    return hashlib.sha256(data).hexdigest()


def _require(data: Mapping[str, Any], key: str, kind: type, problems: list[str]) -> Any:
    value = data.get(key)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        problems.append(f"{key}: expected {kind.__name__}, got {type(value).__name__}")
        return None
    return value


def _load_json(data: bytes, source: str) -> dict[str, Any]:
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ManifestError([f"{source}: not valid UTF-8 JSON ({error})"]) from error
    if not isinstance(raw, dict):
        raise ManifestError([f"{source}: expected a JSON object"])
    return raw


def _parse_header(raw: Mapping[str, Any], problems: list[str]) -> dict[str, Any]:
    """Return the manifest's identifying strings, appending the problems found."""
    if raw.get("format_version") not in (FORMAT_VERSION, ENCRYPTED_FORMAT_VERSION):
        problems.append(f"format_version: expected {FORMAT_VERSION} or {ENCRYPTED_FORMAT_VERSION}")
    if raw.get("kind") != "full":
        problems.append("kind: expected 'full'")
    strings = {key: _require(raw, key, str, problems) for key in HEADER_STRINGS}
    if strings["recovery_point_id"] and not RECOVERY_POINT_ID.match(strings["recovery_point_id"]):
        problems.append("recovery_point_id: expected YYYYMMDDTHHMMSSZ-xxxxxx")
    if strings["hash_algorithm"] and strings["hash_algorithm"] not in HASH_ALGORITHMS:
        problems.append(f"hash_algorithm: expected one of {', '.join(HASH_ALGORITHMS)}")
    return strings


def _parse_stored(item: Mapping[str, Any], where: str, encrypted: bool) -> list[str]:
    """Return the problems of a file entry's stored (ciphertext) size and digest: required in
    an encrypted manifest, refused in a clear one."""
    present = [key for key in ("stored_size", "stored_digest") if key in item]
    if not encrypted:
        return [f"{where}.{key}: only an encrypted manifest has it" for key in present]
    size, digest = item.get("stored_size"), item.get("stored_digest")
    problems = []
    if not isinstance(size, int) or isinstance(size, bool) or not 0 < size <= MAX_FILE_BYTES:
        problems.append(f"{where}.stored_size: expected an integer between 1 and {MAX_FILE_BYTES}")
    elif isinstance(item.get("size"), int) and size <= item["size"]:
        problems.append(f"{where}.stored_size: expected more than size (header and tags)")
    if not isinstance(digest, str) or not HEX_DIGEST.match(digest):
        problems.append(f"{where}.stored_digest: expected 64 lowercase hex characters")
    return problems


def _parse_entry(item: object, where: str, encrypted: bool) -> tuple[FileEntry | None, list[str]]:
    """Return one file entry (None when unusable) and its problems."""
    if not isinstance(item, dict):
        return None, [f"{where}: expected an object"]
    path_problems = check_relative_path(item.get("path"), f"{where}.path")
    size = item.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_FILE_BYTES:
        return None, [
            *path_problems,
            f"{where}.size: expected an integer between 0 and {MAX_FILE_BYTES}",
        ]
    digest = item.get("digest")
    if not isinstance(digest, str) or not HEX_DIGEST.match(digest):
        return None, [*path_problems, f"{where}.digest: expected 64 lowercase hex characters"]
    chunks = item.get("chunk_digests", [])
    if not isinstance(chunks, list) or not all(
        isinstance(chunk, str) and HEX_DIGEST.match(chunk) for chunk in chunks
    ):
        return None, [*path_problems, f"{where}.chunk_digests: expected a list of hex digests"]
    if chunks and len(chunks) != max(1, -(-size // CHUNK_BYTES)):
        return None, [
            *path_problems,
            f"{where}.chunk_digests: expected one digest per {CHUNK_BYTES} bytes",
        ]
    stored_problems = _parse_stored(item, where, encrypted)
    if path_problems or stored_problems:
        return None, path_problems + stored_problems
    entry = FileEntry(
        item["path"],
        size,
        digest,
        tuple(chunks),
        item.get("stored_size") if encrypted else None,
        item.get("stored_digest") if encrypted else None,
    )
    return entry, []


def _parse_files(raw: Mapping[str, Any], encrypted: bool, problems: list[str]) -> list[FileEntry]:
    files_raw = raw.get("files")
    if not isinstance(files_raw, list) or not files_raw:
        problems.append("files: expected a non-empty list")
        return []
    if len(files_raw) > MAX_FILES:
        problems.append(f"files: {len(files_raw)} entries is more than the {MAX_FILES} allowed")
        return []
    entries: list[FileEntry] = []
    seen: set[str] = set()
    for index, item in enumerate(files_raw):
        entry, found = _parse_entry(item, f"files[{index}]", encrypted)
        problems.extend(found)
        if entry is None:
            continue
        if entry.path in seen:
            problems.append(f"files[{index}].path: duplicate {entry.path!r}")
            continue
        seen.add(entry.path)
        entries.append(entry)
    return entries


def _parse_encryption(raw: Mapping[str, Any], problems: list[str]) -> Encryption | None:
    """Return the manifest's encryption block: present exactly when format_version says so,
    every field of the expected shape."""
    block = raw.get("encryption")
    encrypted = raw.get("format_version") == ENCRYPTED_FORMAT_VERSION
    if block is None:
        if encrypted:
            problems.append(f"encryption: required when format_version is {raw['format_version']}")
        return None
    if not encrypted:
        problems.append(f"encryption: only a format_version {ENCRYPTED_FORMAT_VERSION} manifest")
        return None
    if not isinstance(block, dict) or set(block) != set(ENCRYPTION_FIELDS):
        problems.append(f"encryption: expected an object with {', '.join(ENCRYPTION_FIELDS)}")
        return None
    found = []
    for key, pattern in ENCRYPTION_FIELDS.items():
        value = block[key]
        if not isinstance(value, str) or not pattern.fullmatch(value):
            found.append(f"encryption.{key}: expected {pattern.pattern}")
    problems.extend(found)
    return None if found else Encryption(**block)


def parse_manifest(data: bytes, *, source: str = "manifest.json") -> Manifest:
    """Given manifest bytes, return a Manifest. Raise ManifestError listing every problem:
    wrong types, unknown algorithm, absolute or `..` paths, absurd sizes, duplicates, an
    encryption block of the wrong shape or where none belongs, a `signed_by` not a fingerprint."""
    raw = _load_json(data, source)
    problems: list[str] = []
    strings = _parse_header(raw, problems)
    fingerprint = raw.get("fingerprint", {})
    if not isinstance(fingerprint, dict):
        problems.append("fingerprint: expected an object")
        fingerprint = {}
    encryption = _parse_encryption(raw, problems)
    signed_by = raw.get("signed_by", "")
    if not isinstance(signed_by, str) or signed_by and not HEX_DIGEST.fullmatch(signed_by):
        problems.append("signed_by: expected a key fingerprint (64 lowercase hex characters)")
    entries = _parse_files(raw, raw.get("format_version") == ENCRYPTED_FORMAT_VERSION, problems)
    if problems:
        raise ManifestError([f"{source}: {problem}" for problem in problems])
    return Manifest(
        **strings,
        files=tuple(entries),
        fingerprint=fingerprint,
        encryption=encryption,
        format_version=raw["format_version"],
        signed_by=signed_by or None,
    )


def compare_fingerprints(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> list[str]:
    """Given two logical fingerprints (per table or tree: counts and digests), return the
    differences, one line each; empty when they are equal."""
    differences = []
    expected_objects = expected.get("objects", {})
    actual_objects = actual.get("objects", {})
    for name in sorted(set(expected_objects) | set(actual_objects)):
        want, got = expected_objects.get(name), actual_objects.get(name)
        if want is None:
            differences.append(f"{name}: unexpected (not in the source fingerprint)")
        elif got is None:
            differences.append(f"{name}: missing after restore")
        elif want != got:
            parts = [
                f"{key} expected {want.get(key)!r}, got {got.get(key)!r}"
                for key in sorted(set(want) | set(got))
                if want.get(key) != got.get(key)
            ]
            differences.append(f"{name}: " + ", ".join(parts))
    return differences


@dataclass(frozen=True)
class FingerprintDifference:
    """One table (or tree) whose restored fingerprint differs from the source's: its name and
    both values, digest first (`<digest> (rows 40)`), or `(absent)`."""

    name: str
    expected: str
    actual: str


def _describe_object(value: Mapping[str, Any] | None) -> str:
    if value is None:
        return "(absent)"
    rest = ", ".join(f"{key} {value[key]}" for key in sorted(value) if key != "digest")
    return f"{value.get('digest', '(no digest)')} ({rest})" if rest else str(value.get("digest"))


def fingerprint_differences(
    expected: Mapping[str, Any], actual: Mapping[str, Any]
) -> list[FingerprintDifference]:
    """Given the source's and the restored fingerprint, return each differing table or tree
    with both digests (and counts), by name; empty when they are equal."""
    want_all = expected.get("objects", {})
    got_all = actual.get("objects", {})
    return [
        FingerprintDifference(
            name, _describe_object(want_all.get(name)), _describe_object(got_all.get(name))
        )
        for name in sorted(set(want_all) | set(got_all))
        if want_all.get(name) != got_all.get(name)
    ]
