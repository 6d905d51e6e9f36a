# -*- coding: utf-8 -*-
"""Hashing and logical fingerprints computed on the source host (dr-orchestrator).

Shared by the dr_* modules. Runs under the host's own Python 3; standard library only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
from concurrent.futures import ThreadPoolExecutor

BLOCK_BYTES = 4 << 20
CHUNK_BYTES = 64 << 20


def new_hash(algorithm):
    if algorithm == "sha256":
        return hashlib.sha256()
    return hashlib.new(algorithm)


def hash_file(path, algorithm="sha256", chunk_bytes=CHUNK_BYTES, copy_to=None):
    """Return (size, hex digest, per-chunk digests) of a file, reading it in large blocks
    into one reused buffer. Given copy_to, every block read is also written there: one read
    serves the copy and its digests."""
    whole = new_hash(algorithm)
    chunks = []
    chunk = new_hash(algorithm)
    in_chunk = 0
    size = 0
    view = memoryview(bytearray(BLOCK_BYTES))
    with open(path, "rb", buffering=0) as handle, _writer(copy_to) as target:
        while True:
            count = handle.readinto(view[: min(BLOCK_BYTES, chunk_bytes - in_chunk)])
            if not count:
                break
            block = view[:count]
            if target is not None:
                target.write(block)
            whole.update(block)
            chunk.update(block)
            size += count
            in_chunk += count
            if in_chunk == chunk_bytes:
                chunks.append(chunk.hexdigest())
                chunk = new_hash(algorithm)
                in_chunk = 0
    if in_chunk or not chunks:
        chunks.append(chunk.hexdigest())
    return size, whole.hexdigest(), chunks


def _writer(path):
    return open(path, "wb") if path is not None else contextlib.nullcontext()


def list_tree(root):
    """Return the sorted relative paths of the regular files under root; refuse links."""
    paths = []
    for directory, subdirs, files in os.walk(root, followlinks=False):
        subdirs.sort()
        for name in subdirs:
            if os.path.islink(os.path.join(directory, name)):
                raise ValueError("symbolic link in tree: %s" % os.path.join(directory, name))
        for name in sorted(files):
            full = os.path.join(directory, name)
            if os.path.islink(full) or not os.path.isfile(full):
                raise ValueError("not a regular file: %s" % full)
            paths.append(os.path.relpath(full, root).replace(os.sep, "/"))
    return sorted(paths)


def _entry(relative, size, digest, chunks, chunk_bytes):
    entry = {"path": relative, "size": size, "digest": digest}
    if size > chunk_bytes:
        entry["chunk_digests"] = chunks
    return entry


# Files hashed (and copied) at once on a source host: one per core, at most this many, so a
# backup does not take every core and disk queue of a production host.
MAX_WORKERS = 4


def _workers():
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


def digest_tree(root, algorithm="sha256", chunk_bytes=CHUNK_BYTES):
    """Return the manifest file entries for every file under root (files hashed in parallel,
    entries in path order)."""

    def one(relative):
        size, digest, chunks = hash_file(os.path.join(root, relative), algorithm, chunk_bytes)
        return _entry(relative, size, digest, chunks, chunk_bytes)

    with ThreadPoolExecutor(_workers()) as pool:
        return list(pool.map(one, list_tree(root)))


def copy_tree_hashed(src, dest, algorithm="sha256", chunk_bytes=CHUNK_BYTES):
    """Copy the regular files of src into dest (with their times and modes), hashing each
    block as it is copied; return the manifest file entries of what was written, in path
    order. One read of the source serves the copy and its digests; files in parallel."""

    def one(relative):
        target = os.path.join(dest, relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        source = os.path.join(src, relative)
        size, digest, chunks = hash_file(source, algorithm, chunk_bytes, copy_to=target)
        shutil.copystat(source, target)
        return _entry(relative, size, digest, chunks, chunk_bytes)

    with ThreadPoolExecutor(_workers()) as pool:
        return list(pool.map(one, list_tree(src)))


def listing_fingerprint(entries, algorithm="sha256"):
    """Return the logical fingerprint of a tree from its file entries: file count, bytes and
    the digest of the listing (path, size and digest of each file)."""
    listing = new_hash(algorithm)
    total = 0
    for entry in entries:
        line = "%s\0%d\0%s\n" % (entry["path"], entry["size"], entry["digest"])
        listing.update(line.encode("utf-8"))
        total += entry["size"]
    return {
        "kind": "files",
        "algorithm": algorithm,
        "objects": {"tree": {"files": len(entries), "bytes": total, "digest": listing.hexdigest()}},
    }


def tree_fingerprint(root, algorithm="sha256"):
    """Return the logical fingerprint of a directory tree: file count, bytes, listing digest."""
    return listing_fingerprint(digest_tree(root, algorithm), algorithm)


def _canonical_row(row):
    values = []
    for value in row:
        if isinstance(value, bytes):
            values.append({"hex": value.hex()})
        elif isinstance(value, float):
            values.append({"float": repr(value)})
        else:
            values.append(value)
    return json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# The values a row is encoded as it is by _canonical_row: json.dumps writes a tuple of these
# exactly as the list _canonical_row builds from it.
_PLAIN_TYPES = frozenset((int, str, type(None)))


def _plain_row_encoder():
    """Return a function that gives the text json.dumps(row, ensure_ascii=False,
    separators=(",", ":")) gives, for a row of _PLAIN_TYPES, without building an encoder per
    row (json.dumps builds one per call: most of the fingerprint's time). The same
    JSONEncoder settings json.dumps uses; no circular check (a row of scalars has no
    cycle)."""
    settings = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
    make_encoder = getattr(json.encoder, "c_make_encoder", None)
    if make_encoder is None:  # no C accelerator: the encoder's own method, still built once
        return settings.encode
    encode = make_encoder(
        None,
        settings.default,
        json.encoder.encode_basestring,
        settings.indent,
        settings.key_separator,
        settings.item_separator,
        settings.sort_keys,
        settings.skipkeys,
        settings.allow_nan,
    )
    return lambda row: "".join(encode(row, 0))


_encode_plain_row = _plain_row_encoder()


def row_line(row):
    """Return a row's canonical bytes and newline, as the stored fingerprints took them:
    _canonical_row's encoding (bytes as {"hex"}, floats as {"float": repr}), the plain rows
    (integers, text, NULL only) through the encoder built once."""
    if _PLAIN_TYPES.issuperset(map(type, row)):
        return (_encode_plain_row(row) + "\n").encode("utf-8")
    return _canonical_row(row) + b"\n"


def sqlite_fingerprint(path, algorithm="sha256"):
    """Return per-table row count and content digest (rows in primary-key order)."""
    connection = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
                "ORDER BY name"
            )
        ]
        objects = {}
        for table in tables:
            quoted = '"%s"' % table.replace('"', '""')
            digest = new_hash(algorithm)
            rows = 0
            for row in connection.execute("SELECT * FROM %s ORDER BY rowid" % quoted):
                digest.update(row_line(row))
                rows += 1
            objects[table] = {"rows": rows, "digest": digest.hexdigest()}
        return {"kind": "sqlite", "algorithm": algorithm, "objects": objects}
    finally:
        connection.close()


def sqlite_invariants(path, invariants):
    """Run each named query; each must return no rows. Return {name: violating row count}."""
    connection = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        return {
            name: len(connection.execute(query).fetchall())
            for name, query in sorted(invariants.items())
        }
    finally:
        connection.close()
