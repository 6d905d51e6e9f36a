# -*- coding: utf-8 -*-
"""One step on one dataset or path, as the modules dr_files, dr_sqlite, dr_wipe and
dr_artifacts run it alone and dr_datasets runs it for many datasets in one interpreter.

Standard library only. A step takes the module's own parameters (a dict) and check_mode and
returns what the module exits with: {"changed": ..., "dr_result": {...}}, or in check mode
{"changed": ..., "msg": ...} (dr_wipe: "would_remove"). A step that fails raises StepFailed
with the message the module fails with.
"""

from __future__ import annotations

import os
import shutil
import sqlite3

from ansible_collections.dr.orchestrator.plugins.module_utils.dr_hashing import (
    CHUNK_BYTES,
    copy_tree_hashed,
    digest_tree,
    list_tree,
    listing_fingerprint,
    sqlite_fingerprint,
    sqlite_invariants,
    tree_fingerprint,
)


class StepFailed(Exception):
    """The step failed; the message is the module's failure message."""


def absent(kind, dataset):
    """The fingerprint result of a dataset that does not exist."""
    return {
        "name": "fingerprint:%s" % dataset,
        "exists": False,
        "fingerprint": {"kind": kind, "objects": {}},
        "invariants": {},
    }


def copy_tree(src, dest):
    for relative in list_tree(src):
        target = os.path.join(dest, relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(src, relative), target)


def restore_tree(src, dest):
    """Copy src beside dest, then swap the two by rename: dest is the old or the whole new."""
    incoming = dest.rstrip("/") + ".restoring"
    outgoing = dest.rstrip("/") + ".replaced"
    for leftover in (incoming, outgoing):
        shutil.rmtree(leftover, ignore_errors=True)
    os.makedirs(incoming)
    copy_tree(src, incoming)
    if os.path.exists(dest):
        os.rename(dest, outgoing)
    os.rename(incoming, dest)
    shutil.rmtree(outgoing, ignore_errors=True)


def files_preview(params):
    """Check mode of a files dump or restore: touch nothing, say what a real run does."""
    try:
        count = len(list_tree(params["src"]))
    except (OSError, ValueError) as error:
        raise StepFailed(
            "%s of %s failed: %s" % (params["action"], params["dataset"], error)
        ) from error
    if params["action"] == "dump":
        msg = "would copy the %d files of %s into %s" % (count, params["src"], params["dest"])
    else:
        msg = "would replace %s with the %d files of %s" % (params["dest"], count, params["src"])
    return {"changed": True, "msg": msg}


def files_step(params, check_mode):
    """dr_files: dump, restore or fingerprint a directory tree."""
    action = params["action"]
    if action != "fingerprint":
        # A restore from a missing source would otherwise put an empty tree in place.
        if not params["src"] or not os.path.isdir(params["src"]):
            raise StepFailed("directory %s does not exist" % params["src"])
        if check_mode:
            return files_preview(params)
    extra = {}
    try:
        if action == "dump":
            os.makedirs(params["dest"], exist_ok=True)
            files = copy_tree_hashed(params["src"], params["dest"], params["algorithm"])
            extra = {"files": files, "chunk_bytes": CHUNK_BYTES}
            fingerprint = listing_fingerprint(files, params["algorithm"])
        elif action == "restore":
            restore_tree(params["src"], params["dest"])
            fingerprint = tree_fingerprint(params["dest"], params["algorithm"])
        else:
            if not os.path.isdir(params["path"]):
                return {"changed": False, "dr_result": absent("files", params["dataset"])}
            fingerprint = tree_fingerprint(params["path"], params["algorithm"])
    except (OSError, ValueError) as error:
        raise StepFailed("%s of %s failed: %s" % (action, params["dataset"], error)) from error
    dr_result = {
        "name": "%s:%s" % (action, params["dataset"]),
        "exists": True,
        "fingerprint": fingerprint,
        "invariants": {},
    }
    dr_result.update(extra)
    return {"changed": action != "fingerprint", "dr_result": dr_result}


def sqlite_dump(src, dest):
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    source = sqlite3.connect("file:%s?mode=ro" % src, uri=True)
    target = sqlite3.connect(dest)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def sqlite_restore(src, dest):
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    temporary = dest + ".restoring"
    shutil.copyfile(src, temporary)
    with open(temporary, "rb") as handle:
        os.fsync(handle.fileno())
    for suffix in ("-wal", "-shm", "-journal"):
        if os.path.exists(dest + suffix):
            os.unlink(dest + suffix)
    os.replace(temporary, dest)


def sqlite_step(params, check_mode):
    """dr_sqlite: dump, restore or fingerprint a SQLite database."""
    action = params["action"]
    if action != "fingerprint":
        if not os.path.isfile(params["src"]):
            raise StepFailed("database %s does not exist" % params["src"])
        if check_mode:
            verb = "copy %s into" if action == "dump" else "put %s in place of"
            return {"changed": True, "msg": "would " + verb % params["src"] + " " + params["dest"]}
    try:
        if action == "dump":
            sqlite_dump(params["src"], params["dest"])
            target = params["dest"]
        elif action == "restore":
            sqlite_restore(params["src"], params["dest"])
            target = params["dest"]
        else:
            target = params["path"]
            if not os.path.isfile(target):
                return {"changed": False, "dr_result": absent("sqlite", params["dataset"])}
        fingerprint = sqlite_fingerprint(target, params["algorithm"])
        invariants = sqlite_invariants(target, params["invariants"])
    except (sqlite3.Error, OSError) as error:
        raise StepFailed("%s of %s failed: %s" % (action, params["dataset"], error)) from error
    dr_result = {
        "name": "%s:%s" % (action, params["dataset"]),
        "exists": True,
        "fingerprint": fingerprint,
        "invariants": invariants,
        "server_version": "SQLite %s" % sqlite3.sqlite_version,
    }
    return {"changed": action != "fingerprint", "dr_result": dr_result}


def wipe_step(params, check_mode):
    """dr_wipe: remove paths and prove them gone (paths, purpose, name, report)."""
    paths = params["paths"]
    if check_mode:
        existing = [path for path in paths if os.path.lexists(path)]
        return {"changed": bool(existing), "would_remove": existing}
    removed = []
    for path in paths:
        if os.path.islink(path) or os.path.isfile(path):
            os.unlink(path)
            removed.append(path)
        elif os.path.isdir(path):
            shutil.rmtree(path)
            removed.append(path)
    remaining = [path for path in paths if os.path.lexists(path)]
    if remaining:
        raise StepFailed("still present after wipe: %s" % ", ".join(remaining))
    dr_result = dict(params["report"] or {})
    dr_result.update(
        name=params["name"] or "wipe:%s" % params["purpose"],
        removed=removed,
        remaining=remaining,
        destroyed=bool(removed),
        exists=False,
    )
    return {"changed": bool(removed), "dr_result": dr_result}


def known_entries(params):
    """Return the dump's own entries when they describe exactly the files under path (same
    dataset, algorithm and chunk size; same paths and sizes), or None: then hash them."""
    known = params.get("known") or {}
    files = known.get("files")
    if (
        not isinstance(files, list)
        or known.get("name") != "dump:%s" % params["dataset"]
        or known.get("chunk_bytes") != params["chunk_bytes"]
        or (known.get("fingerprint") or {}).get("algorithm") != params["algorithm"]
    ):
        return None
    paths = list_tree(params["path"])
    if [entry.get("path") for entry in files] != paths:
        return None
    for entry in files:
        if os.path.getsize(os.path.join(params["path"], entry["path"])) != entry.get("size"):
            return None
    return files


def artifacts_step(params):
    """dr_artifacts: the path, size and digest of every file of a dump (reads only)."""
    try:
        files = known_entries(params)
        if files is None:
            files = digest_tree(params["path"], params["algorithm"], params["chunk_bytes"])
    except (OSError, ValueError) as error:
        raise StepFailed("hashing %s failed: %s" % (params["path"], error)) from error
    if not files:
        raise StepFailed("dump of %s produced no files" % params["dataset"])
    dr_result = {
        "name": "artifacts:%s" % params["dataset"],
        "files": files,
        "algorithm": params["algorithm"],
    }
    return {"changed": False, "dr_result": dr_result}
