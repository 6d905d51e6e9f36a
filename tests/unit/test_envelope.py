"""The envelope format: round trips for both ciphers and the edge sizes; every tamper is
caught and names the file; the file key-encryption key."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from orchestrator.errors import ExitCode, InputError
from orchestrator.integrations.envelope import (
    HEADER,
    TAG_BYTES,
    FileKek,
    KeyUnavailable,
    SealBroken,
    create_file_kek,
    key_check,
    load_file_kek,
    new_data_key,
    open_stream,
    seal_stream,
    sealed_size,
)

CHUNK = 64  # small chunks so a few hundred bytes span several


def seal(data: bytes, key: bytes, cipher: str = "aes-256-gcm", path: str = "a.db") -> bytes:
    blocks = [data[i : i + 50] for i in range(0, len(data), 50)] or [b""]
    return b"".join(seal_stream(blocks, key, cipher, path, chunk_bytes=CHUNK))


def unseal(sealed: bytes, key: bytes, cipher: str = "aes-256-gcm", path: str = "a.db") -> bytes:
    blocks = [sealed[i : i + 37] for i in range(0, len(sealed), 37)]
    return b"".join(open_stream(blocks, key, cipher, path, "store:x/data/a.db"))


def chunks(sealed: bytes) -> tuple[bytes, list[bytes]]:
    body = sealed[HEADER.size :]
    size = CHUNK + TAG_BYTES
    return sealed[: HEADER.size], [body[i : i + size] for i in range(0, len(body), size)]


@pytest.mark.parametrize("cipher", ["aes-256-gcm", "sm4-gcm"])
@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, 3 * CHUNK, 3 * CHUNK + 5])
def test_round_trip_of_every_edge_size(cipher: str, size: int) -> None:
    key = new_data_key(cipher)
    assert len(key) == (32 if cipher == "aes-256-gcm" else 16)
    data = os.urandom(size)
    sealed = seal(data, key, cipher)
    assert len(sealed) == sealed_size(size, CHUNK)
    assert unseal(sealed, key, cipher) == data


def test_exact_multiple_has_no_empty_trailing_chunk_and_empty_file_one_chunk() -> None:
    key = new_data_key("aes-256-gcm")
    assert len(chunks(seal(os.urandom(2 * CHUNK), key))[1]) == 2
    header, empty = chunks(seal(b"", key))
    assert [len(piece) for piece in empty] == [TAG_BYTES]


def test_ciphertext_hides_the_plaintext_and_differs_each_time() -> None:
    key = new_data_key("aes-256-gcm")
    data = b"account 6222-0000-1111 balance 100.00\n" * 20
    one, two = seal(data, key), seal(data, key)
    assert b"6222-0000-1111" not in one and one != two  # fresh nonce prefix per file


@pytest.mark.parametrize("cipher", ["aes-256-gcm", "sm4-gcm"])
def test_a_flipped_byte_anywhere_is_caught_and_names_the_file(cipher: str) -> None:
    key = new_data_key(cipher)
    sealed = bytearray(seal(os.urandom(3 * CHUNK), key, cipher))
    for position in (HEADER.size + 3, len(sealed) - 1, 12):  # a chunk, a tag, the header
        broken = bytearray(sealed)
        broken[position] ^= 0x01
        with pytest.raises(SealBroken, match=r"^store:x/data/a\.db: digest mismatch") as caught:
            unseal(bytes(broken), key, cipher)
        assert caught.value.exit_code == ExitCode.CHECK_FAILED


def test_reordered_chunks_are_caught() -> None:
    key = new_data_key("aes-256-gcm")
    header, pieces = chunks(seal(os.urandom(3 * CHUNK + 5), key))
    pieces[0], pieces[1] = pieces[1], pieces[0]
    with pytest.raises(SealBroken, match=r"inner chunk 0 fails authentication"):
        unseal(header + b"".join(pieces), key)


def test_truncation_at_a_chunk_boundary_and_mid_chunk_is_caught() -> None:
    key = new_data_key("aes-256-gcm")
    header, pieces = chunks(seal(os.urandom(3 * CHUNK + 5), key))
    with pytest.raises(SealBroken, match=r"last chunk 2 fails authentication"):
        unseal(header + b"".join(pieces[:3]), key)
    with pytest.raises(SealBroken, match=r"fails authentication|cut short"):
        unseal(header + b"".join(pieces)[:-20], key)
    with pytest.raises(SealBroken, match=r"chunk 0 is cut short \(0 bytes\)"):
        unseal(header, key)
    with pytest.raises(SealBroken, match=r"shorter than the envelope header"):
        unseal(header[:10], key)


def test_appended_bytes_or_chunks_are_caught() -> None:
    key = new_data_key("aes-256-gcm")
    sealed = seal(os.urandom(2 * CHUNK + 3), key)
    header, pieces = chunks(sealed)
    with pytest.raises(SealBroken, match=r"inner chunk 2 fails authentication"):
        unseal(sealed + pieces[0], key)
    with pytest.raises(SealBroken, match=r"fails authentication"):
        unseal(sealed + b"x", key)


def test_wrong_key_other_path_or_other_cipher_is_caught() -> None:
    key = new_data_key("aes-256-gcm")
    sealed = seal(b"ledger", key)
    with pytest.raises(SealBroken, match=r"last chunk 0 fails authentication"):
        unseal(sealed, new_data_key("aes-256-gcm"))
    with pytest.raises(SealBroken, match=r"last chunk 0 fails authentication"):
        unseal(sealed, key, path="b.db")  # a file moved to another name in the point
    with pytest.raises(SealBroken, match=r"header names cipher 1"):
        unseal(sealed, new_data_key("sm4-gcm"), "sm4-gcm")
    with pytest.raises(SealBroken, match=r"not a drctl envelope"):
        unseal(b"SQLite format 3\x00" + bytes(40), key)


def test_file_kek_wraps_and_refuses_what_another_key_wrapped(tmp_path: Path) -> None:
    kek = create_file_kek(tmp_path / "keys" / "kek.hex")
    assert stat.S_IMODE((tmp_path / "keys" / "kek.hex").stat().st_mode) == 0o600
    loaded = load_file_kek(tmp_path / "keys" / "kek.hex", "dr.yml")
    assert loaded.kek_id == kek.kek_id and len(kek.kek_id) == 16
    data_key = new_data_key("aes-256-gcm")
    wrapped = kek.wrap(data_key)
    assert loaded.unwrap(wrapped) == data_key and data_key not in wrapped
    other = FileKek(os.urandom(32))
    with pytest.raises(
        KeyUnavailable, match=f"does not unwrap under key-encryption key {other.kek_id}"
    ):
        other.unwrap(wrapped)
    assert key_check(data_key) != key_check(new_data_key("aes-256-gcm"))
    with pytest.raises(FileExistsError, match="kek.hex"):
        create_file_kek(tmp_path / "keys" / "kek.hex")


def test_kek_file_absent_is_exit_3_and_loose_or_malformed_is_exit_2(tmp_path: Path) -> None:
    with pytest.raises(KeyUnavailable, match=r"kek\.hex not found") as missing:
        load_file_kek(tmp_path / "kek.hex", "dr.yml")
    assert missing.value.exit_code == ExitCode.INFRASTRUCTURE
    loose = tmp_path / "loose.hex"
    loose.write_text(os.urandom(32).hex())
    loose.chmod(0o644)
    with pytest.raises(InputError, match=r"must be mode 0600"):
        load_file_kek(loose, "dr.yml")
    short = tmp_path / "short.hex"
    short.write_text("abcd")
    short.chmod(0o600)
    with pytest.raises(InputError, match=r"expected 64 hex chars"):
        load_file_kek(short, "dr.yml")
    binary = tmp_path / "binary.hex"
    binary.write_bytes("密钥".encode() + os.urandom(30))
    binary.chmod(0o600)
    with pytest.raises(InputError, match=r"expected 64 hex chars"):
        load_file_kek(binary, "dr.yml")
