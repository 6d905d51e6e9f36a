"""The ed25519 key that signs evidence packages: load or create it, sign, verify, fingerprint.

The private key is a PEM PKCS#8 file, mode 0600, in a directory created with mode 0700. It is
written to a temp file and linked into place, so a crash never leaves half a key and two
processes racing to create it end up sharing one. The public half travels in every package as
`SIGNER.pub.pem` (SubjectPublicKeyInfo) so `openssl pkeyutl -verify` can check the signature.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

logger = logging.getLogger(__name__)

KEY_FILE_MODE = 0o600
KEY_DIRECTORY_MODE = 0o700
SIGNATURE_SIZE_BYTES = 64


def load_or_create_signing_key(path: Path) -> Ed25519PrivateKey:
    """Given the path of the signing key, return the key, creating it first if it is missing.

    Kept for callers that create throw-away keys (tests); evidence is never signed with a key
    created on the fly: `drctl evidence keygen` creates it and `check-config` requires it.
    Raise ValueError if the file exists but is not an unencrypted PEM ed25519 private key.
    """
    if not path.exists():
        _create_signing_key(path)
    return load_signing_key(path)


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    """Given the path of a PEM PKCS#8 ed25519 private key, return the key.

    Raise ValueError naming the file if it cannot be read as one.
    """
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        logger.warning(
            "signing key %s is readable by group or others (mode %o); expected %o",
            path,
            mode,
            KEY_FILE_MODE,
        )
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"{path}: expected an unencrypted PEM PKCS#8 ed25519 private key: {error}"
        ) from error
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path}: expected an ed25519 private key, found {type(key).__name__}")
    return key


def create_signing_key(path: Path) -> Ed25519PrivateKey:
    """Given a path with no file, create a new key there (mode 0600) and return it.

    Raise FileExistsError if the path already holds a file: a key is never replaced silently.
    """
    if path.exists():
        raise FileExistsError(f"{path}: a key already exists; it is never replaced")
    _create_signing_key(path)
    return load_signing_key(path)


def _create_signing_key(path: Path) -> None:
    """Given a path with no file, write a fresh key there atomically (temp file, then link)."""
    directory = path.parent
    if not directory.exists():
        directory.mkdir(mode=KEY_DIRECTORY_MODE, parents=True, exist_ok=True)
        os.chmod(directory, KEY_DIRECTORY_MODE)  # mkdir's mode is filtered by the umask
    pem = Ed25519PrivateKey.generate().private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )
    temporary = directory / f".tmp-{path.name}-{secrets.token_hex(4)}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(pem)
            stream.flush()
            os.fsync(stream.fileno())
        try:
            os.link(temporary, path)  # fails if another process created the key meanwhile
            logger.info("created evidence signing key %s", path)
        except FileExistsError:
            logger.info("evidence signing key %s was created concurrently; using it", path)
    finally:
        temporary.unlink(missing_ok=True)
    _fsync_directory(directory)


def _fsync_directory(directory: Path) -> None:
    """Given a directory, flush its entries (renames, links) to disk."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def sign(key: Ed25519PrivateKey, data: bytes) -> bytes:
    """Given a private key and bytes, return the raw 64-byte ed25519 signature."""
    return key.sign(data)


def public_key_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """Given a private or public key, return the public key as PEM SubjectPublicKeyInfo."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    )


def public_key_line(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """Given a key, return its public key as one line: base64 DER SubjectPublicKeyInfo (the
    body of the PEM), as pinned in dr.yml."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    der = public.public_bytes(
        encoding=serialization.Encoding.DER,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    )
    return base64.b64encode(der).decode("ascii")


def load_public_key_line(line: str, source: str = "public key") -> Ed25519PublicKey:
    """Given a public key line (see public_key_line), return the key; ValueError if not one."""
    body = "\n".join(line[i : i + 64] for i in range(0, len(line), 64))
    pem = f"-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n"
    return load_public_key_pem(pem.encode("ascii"), source)


def load_public_key_pem(pem: bytes, source: str = "public key") -> Ed25519PublicKey:
    """Given PEM SubjectPublicKeyInfo bytes, return the ed25519 public key.

    Raise ValueError naming `source` if the bytes are not an ed25519 public key.
    """
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{source}: expected a PEM ed25519 public key: {error}") from error
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{source}: expected an ed25519 public key, found {type(key).__name__}")
    return key


def raw_public_key(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """Given a private or public key, return the 32 raw bytes of the public key."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(
        encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw
    )


def fingerprint(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """Given a private or public key, return the hex sha256 of the raw public key.

    An auditor gets the same value with
    `openssl pkey -pubin -in SIGNER.pub.pem -outform DER | tail -c 32 | sha256sum`.
    """
    return hashlib.sha256(raw_public_key(key)).hexdigest()


def verify_signature(public_key: Ed25519PublicKey, data: bytes, signature: bytes) -> bool:
    """Given a public key, the signed bytes and a raw signature, return whether it is valid."""
    if len(signature) != SIGNATURE_SIZE_BYTES:
        return False
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        return False
    return True
