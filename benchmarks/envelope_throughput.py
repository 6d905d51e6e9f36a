"""The encrypted path beside the clear one, for benchmarks/verify_throughput.py.

Measured on the same generated files, in the same interleaved rounds: backup's own streaming
step (`actions.backup_stream.stream_to_store`: read at the "host" through Ansible's local
connection, hash in flight, write into a directory store with fsync) without and with
envelope encryption (AES-256-GCM, a fresh data key per round), and the restore's
(`actions.restore_selection.fetch_to_host`: read from the store, check, write to the host)
without and with decryption. Rates are plaintext bytes ÷ seconds. The section it writes sits
between its own markers in docs/benchmarks.md.
"""

from __future__ import annotations

import os
import shutil
import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from orchestrator.actions.backup_stream import stream_to_store
from orchestrator.actions.point_keys import Sealing
from orchestrator.actions.restore_selection import fetch_to_host
from orchestrator.integrations.envelope import SCHEME, FileKek, key_check, new_data_key
from orchestrator.integrations.hosts import LocalHostFiles
from orchestrator.integrations.stores.file import FileStore
from orchestrator.model.manifest import (
    ENCRYPTED_FORMAT_VERSION,
    FORMAT_VERSION,
    Encryption,
    FileEntry,
    Manifest,
)

BEGIN = "<!-- envelope_throughput:begin -->"
END = "<!-- envelope_throughput:end -->"
KEK = FileKek(bytes(32))
POINT = "20261130T000000Z-000000"
NAMES = ("backup_clear", "backup_sealed", "restore_clear", "restore_sealed")
TARGET = 0.7


@dataclass(frozen=True)
class Pass:
    seconds: float
    bytes: int

    @property
    def rate(self) -> float:
        return self.bytes / self.seconds


def _sealing() -> Sealing:
    key = new_data_key("aes-256-gcm")
    return Sealing(
        key, Encryption(SCHEME, "aes-256-gcm", KEK.kek_id, key_check(key), KEK.wrap(key).hex())
    )


def _backup(
    files: list[tuple[Path, int, str]], root: Path, sealing: Sealing | None
) -> tuple[Pass, Manifest]:
    shutil.rmtree(root, ignore_errors=True)
    store = FileStore("bench", "production", str(root / "store"))
    store.prepare()
    host = LocalHostFiles("bench-host")
    (root / "work").mkdir(parents=True)
    entries = []
    started = time.perf_counter()
    for index, (path, size, digest) in enumerate(files):
        entry = FileEntry(f"f{index:05d}.bin", size, digest)
        key = f"b/d/{POINT}/data/{entry.path}"
        entries.append(stream_to_store(host, str(path), store, key, entry, sealing, root / "work"))
    seconds = time.perf_counter() - started
    manifest = Manifest(
        POINT,
        "b",
        "d",
        "files",
        "2026-11-30",
        "2026-11-30T00:00:00Z",
        "2026-11-30T00:00:01Z",
        "production",
        "bench-host",
        "sha256",
        tuple(entries),
        encryption=None if sealing is None else sealing.encryption,
        format_version=FORMAT_VERSION if sealing is None else ENCRYPTED_FORMAT_VERSION,
    )
    return Pass(seconds, sum(size for _, size, _ in files)), manifest


def _restore(root: Path, manifest: Manifest, sealing: Sealing | None) -> Pass:
    spool = root / "spool"
    shutil.rmtree(spool, ignore_errors=True)
    store = FileStore("bench", "production", str(root / "store"))
    started = time.perf_counter()
    key = None if sealing is None else sealing.data_key
    fetch_to_host(store, manifest, LocalHostFiles("bench-vault"), str(spool), key)
    return Pass(time.perf_counter() - started, manifest.total_bytes)


def measure_round(
    files: list[tuple[Path, int, str]], work: Path, sealed_first: bool = False
) -> dict[str, Pass]:
    """One interleaved round: clear and sealed backup, then clear and opened restore; the
    order alternates between rounds so neither side always runs on a warmer cache."""
    sealing = _sealing()
    result: dict[str, Pass] = {}
    manifests: dict[str, Manifest] = {}
    order = ("sealed", "clear") if sealed_first else ("clear", "sealed")
    for side in order:
        chosen = sealing if side == "sealed" else None
        os.sync()  # no pass pays for the write-back of the one before it
        result[f"backup_{side}"], manifests[side] = _backup(files, work / side, chosen)
    for side in order:
        chosen = sealing if side == "sealed" else None
        os.sync()
        result[f"restore_{side}"] = _restore(work / side, manifests[side], chosen)
    for side in order:
        shutil.rmtree(work / side, ignore_errors=True)
    return result


def report(rounds: dict[str, list[Pass]], size: int, when: str, command: str) -> str:
    """Return the markdown section of the encrypted-path measurements: medians of the rounds
    with their range, and each ratio taken within a round (both sides under the same load)."""
    count = len(rounds["backup_clear"])
    rows = [
        ("backup stream, clear", rounds["backup_clear"]),
        ("backup stream, sealed (AES-256-GCM)", rounds["backup_sealed"]),
        ("restore stream, clear", rounds["restore_clear"]),
        ("restore stream, opened (AES-256-GCM)", rounds["restore_sealed"]),
    ]
    ratios = [
        (label, [s.rate / c.rate for s, c in zip(rounds[sealed], rounds[clear], strict=True)])
        for label, sealed, clear in (
            ("backup: sealed ÷ clear", "backup_sealed", "backup_clear"),
            ("restore: opened ÷ clear", "restore_sealed", "restore_clear"),
        )
    ]
    lines = [
        BEGIN,
        "## Encrypted path (`benchmarks/envelope_throughput.py`, run by verify_throughput.py)",
        "",
        f"Run {when} with `{command}` ({size:,} bytes of data; {count} interleaved rounds, "
        "medians with the range; "
        "the same files, clear and sealed, one after the other in each round, "
        "which goes first alternating).",
        "",
        "| measurement | median s | range s | rate |",
        "|---|---:|---:|---:|",
        *(
            f"| {name} | {_median(t.seconds for t in ts):.2f} | "
            f"{min(t.seconds for t in ts):.2f}–{max(t.seconds for t in ts):.2f} | "
            f"{size / _median(t.seconds for t in ts) / 1e6:.0f} MB/s |"
            for name, ts in rows
        ),
        "",
        "| ratio (within each round) | median | range | target | met |",
        "|---|---:|---:|---:|---|",
        *(
            f"| {name} | {_median(values):.2f} | {min(values):.2f}–{max(values):.2f} | "
            f"≥ {TARGET:.2f} | {'yes' if _median(values) >= TARGET else 'NO'} |"
            for name, values in ratios
        ),
        "",
        "Per byte, the clear backup stream hashes once (in transit, against the source's "
        "digest; the store takes that check instead of hashing again) and writes once. The "
        "sealed one also encrypts (AES-GCM is the cheap part), "
        "hashes the ciphertext in transit, and writes and reads it once more in a staging file "
        "(stores take the digest before the first byte; docs/keys.md), so where hashing bounds "
        "the rate it runs near two thirds of the clear one. A sealed restore hashes the "
        "ciphertext, opens it and hashes the plaintext; a clear one hashes once. Each pass "
        "starts after `sync`, so none pays for the write-back of the one before it.",
        END,
    ]
    return "\n".join(lines) + "\n"


def _median(values: Iterable[float]) -> float:
    return statistics.median(list(values))
