"""Client-side envelope encryption of recovery-point files: a chunked AEAD stream, flat memory.

Each recovery point gets a fresh data key; each file is sealed with it as a stream:

    header  = MAGIC (8) | format version (1) | cipher id (1) | nonce prefix (8) | chunk size (4)
    chunk i = AEAD(data key, nonce = prefix || i (4 bytes, big-endian),
                   plaintext[i * chunk size : (i + 1) * chunk size],
                   associated data = header | len(path) | path | i (8) | final flag (1))

Every chunk holds exactly `chunk size` plaintext bytes except the last, which holds 0 to
`chunk size` bytes and carries the final flag (an empty file is one empty final chunk). The
header and the file's path are bound into every chunk, the index into every nonce and chunk,
and the final flag into the last: a changed byte, swapped chunks, a file cut at a chunk boundary
or bytes appended after the last chunk all fail authentication, and the error names the file.

The data key is wrapped by a key-encryption key (`KeyEncryptionKey`: `wrap`, `unwrap`,
`kek_id`); this module has the file form (`FileKek`: 32 bytes, hex, in a 0600 file; RFC 3394
AES key wrap). docs/keys.md describes the PKCS#11 and KMS forms of the same interface.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
import struct
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from orchestrator.errors import InfrastructureError, InputError
from orchestrator.integrations.transfer import DigestMismatch

MAGIC = b"DRCTLENV"
FORMAT_VERSION = 1
SCHEME = "drctl-envelope-v1"
CIPHERS = {"aes-256-gcm": (1, 32), "sm4-gcm": (2, 16)}  # name -> (header id, data key bytes)
CHUNK_PLAINTEXT = 1 << 20
TAG_BYTES = 16
HEADER = struct.Struct(">8sBB8sI")
KEY_CHECK_LABEL = b"drctl key check"
KEK_BYTES = 32


class SealBroken(DigestMismatch):
    """Stored ciphertext failed authentication (changed, reordered, cut or extended): an
    integrity failure of the named file, exit 1."""

    def __init__(self, key: str, detail: str) -> None:
        self.detail = detail
        super().__init__(key, "authentic ciphertext", "fails authentication", detail)


class KeyUnavailable(InfrastructureError):
    """The key-encryption key a recovery point needs is not held here (exit 3)."""


def new_data_key(cipher: str) -> bytes:
    """Return a fresh random data key for one recovery point."""
    return os.urandom(CIPHERS[cipher][1])


def key_check(data_key: bytes) -> str:
    """Return the key-check value of a data key (HMAC-SHA256 of a fixed label): proves a
    re-wrapped key is the right one without revealing it."""
    return hmac.new(data_key, KEY_CHECK_LABEL, hashlib.sha256).hexdigest()


def sealed_size(plaintext_size: int, chunk_bytes: int = CHUNK_PLAINTEXT) -> int:
    """Return the ciphertext size of a plaintext of the given size."""
    chunks = max(1, -(-plaintext_size // chunk_bytes))
    return HEADER.size + plaintext_size + chunks * TAG_BYTES


def _aead(cipher: str, data_key: bytes) -> tuple[Callable[..., bytes], Callable[..., bytes]]:
    """Return (seal, open) functions of (nonce, data, associated data) for a cipher."""
    if cipher == "aes-256-gcm":
        aes = AESGCM(data_key)
        return aes.encrypt, aes.decrypt

    def seal(nonce: bytes, data: bytes, aad: bytes) -> bytes:
        encryptor = Cipher(algorithms.SM4(data_key), modes.GCM(nonce)).encryptor()
        encryptor.authenticate_additional_data(aad)
        return encryptor.update(data) + encryptor.finalize() + encryptor.tag

    def open_(nonce: bytes, data: bytes, aad: bytes) -> bytes:
        body, tag = data[:-TAG_BYTES], bytes(data[-TAG_BYTES:])
        decryptor = Cipher(algorithms.SM4(data_key), modes.GCM(nonce, tag)).decryptor()
        decryptor.authenticate_additional_data(aad)
        return decryptor.update(body) + decryptor.finalize()

    return seal, open_


def _associated(header: bytes, path: str, index: int, final: bool) -> bytes:
    name = path.encode("utf-8")
    return header + struct.pack(">I", len(name)) + name + struct.pack(">QB", index, final)


def _rechunk(blocks: Iterable[bytes], size: int) -> Iterator[tuple[bytes | memoryview, bool]]:
    """Yield (piece, final) of exactly `size` bytes each, the last 0..size bytes and final.
    Pieces are views into the blocks, copied only where a piece spans two blocks."""
    pending = b""
    for block in blocks:
        view, start = memoryview(block), 0
        if pending:
            need = size - len(pending)
            if len(view) <= need:  # not past a whole piece yet: it may still be the last
                pending += block
                continue
            yield pending + view[:need], False
            start = need
        while len(view) - start > size:
            yield view[start : start + size], False
            start += size
        pending = bytes(view[start:])
    yield pending, True


def seal_stream(
    blocks: Iterable[bytes],
    data_key: bytes,
    cipher: str,
    path: str,
    chunk_bytes: int = CHUNK_PLAINTEXT,
) -> Iterator[bytes]:
    """Encrypt a plaintext block stream for the file at `path`; yield the header, then each
    sealed chunk."""
    prefix = os.urandom(8)
    header = HEADER.pack(MAGIC, FORMAT_VERSION, CIPHERS[cipher][0], prefix, chunk_bytes)
    seal, _ = _aead(cipher, data_key)
    yield header
    for index, (piece, final) in enumerate(_rechunk(blocks, chunk_bytes)):
        nonce = prefix + struct.pack(">I", index)
        yield seal(nonce, piece, _associated(header, path, index, final))


def _read_header(pending: bytearray, cipher: str, where: str) -> tuple[bytes, bytes, int]:
    if len(pending) < HEADER.size:
        raise SealBroken(where, f"{len(pending)} bytes: shorter than the envelope header")
    header = bytes(pending[: HEADER.size])
    magic, version, cipher_id, prefix, chunk_bytes = HEADER.unpack(header)
    if magic != MAGIC or version != FORMAT_VERSION:
        raise SealBroken(where, "not a drctl envelope (magic or version differs)")
    if cipher_id != CIPHERS[cipher][0] or not 0 < chunk_bytes <= 64 << 20:
        raise SealBroken(where, f"header names cipher {cipher_id}, chunk size {chunk_bytes}")
    return header, prefix, chunk_bytes


def open_stream(
    blocks: Iterable[bytes], data_key: bytes, cipher: str, path: str, where: str
) -> Iterator[bytes]:
    """Decrypt a sealed block stream of the file at `path`; yield plaintext chunks. Raise
    SealBroken naming `where` at the first chunk that fails authentication."""
    _, open_ = _aead(cipher, data_key)
    pending = bytearray()
    source = iter(blocks)
    for block in source:
        pending += block
        if len(pending) >= HEADER.size:
            break
    header, prefix, chunk_bytes = _read_header(pending, cipher, where)
    del pending[: HEADER.size]
    sealed = chunk_bytes + TAG_BYTES
    index = 0

    def unseal(piece: bytes | memoryview, final: bool) -> bytes:
        nonce = prefix + struct.pack(">I", index)
        try:
            return open_(nonce, piece, _associated(header, path, index, final))
        except (InvalidTag, ValueError) as error:
            state = "last" if final else "inner"
            raise SealBroken(where, f"{state} chunk {index} fails authentication") from error

    for piece, final in _rechunk(_chain(pending, source), sealed):
        if final and len(piece) < TAG_BYTES:
            raise SealBroken(where, f"chunk {index} is cut short ({len(piece)} bytes)")
        yield unseal(piece, final)
        index += 1


def _chain(first: bytearray, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield bytes(first)
    yield from rest


class KeyEncryptionKey(Protocol):
    """What wraps a recovery point's data key: the file form here; PKCS#11 and KMS forms
    implement the same three members (docs/keys.md)."""

    kek_id: str

    def wrap(self, data_key: bytes) -> bytes:
        """Return the data key wrapped under this key."""

    def unwrap(self, wrapped: bytes) -> bytes:
        """Return the data key; raise KeyUnavailable when it was wrapped under another key."""


def kek_fingerprint(material: bytes) -> str:
    """Return the id of a key-encryption key: 16 hex characters of a labelled SHA-256."""
    return hashlib.sha256(b"drctl kek id\x00" + material).hexdigest()[:16]


class FileKek:
    """A 32-byte key-encryption key kept as 64 hex characters in a file of mode 0600."""

    def __init__(self, material: bytes, path: Path | None = None) -> None:
        if len(material) != KEK_BYTES:
            raise ValueError(f"a key-encryption key is {KEK_BYTES} bytes")
        self._material = material
        self.path = path
        self.kek_id = kek_fingerprint(material)

    def wrap(self, data_key: bytes) -> bytes:
        return aes_key_wrap(self._material, data_key)

    def unwrap(self, wrapped: bytes) -> bytes:
        try:
            return aes_key_unwrap(self._material, wrapped)
        except InvalidUnwrap as error:
            raise KeyUnavailable(
                f"the data key does not unwrap under key-encryption key {self.kek_id}"
            ) from error


def load_file_kek(path: Path, source: str) -> FileKek:
    """Read a file KEK. Raise KeyUnavailable when the file is absent (exit 3), InputError when
    it is readable by others or not 64 hex characters (exit 2)."""
    try:
        mode = path.stat().st_mode
        text = path.read_bytes().decode("ascii", errors="replace").strip()
    except FileNotFoundError as error:
        raise KeyUnavailable(f"key-encryption key file {path} not found") from error
    except OSError as error:
        raise KeyUnavailable(f"key-encryption key file {path} unreadable: {error}") from error
    if stat.S_IMODE(mode) & 0o077:
        raise InputError(source, [f"encryption.key_encryption_key.file: {path} must be mode 0600"])
    try:
        material = bytes.fromhex(text)
    except ValueError:
        material = b""
    if len(material) != KEK_BYTES:
        raise InputError(
            source,
            [f"encryption.key_encryption_key.file: {path}: expected {2 * KEK_BYTES} hex chars"],
        )
    return FileKek(material, path)


def create_file_kek(path: Path) -> FileKek:
    """Create a new random file KEK at path (mode 0600); refuse to overwrite (FileExistsError)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    material = os.urandom(KEK_BYTES)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(material.hex() + "\n")
    return FileKek(material, path)
