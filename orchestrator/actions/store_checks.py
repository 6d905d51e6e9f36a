"""Start-up checks of the stores named in dr.yml, for `drctl check-config`.

A store that holds recovery points (some system's primary or off-site store) must be able to
keep them immutable for the rotation period (backup.rotation, 260号 第七条; T/TJSFB 009 §7 d
写保护): an S3 bucket needs versioning Enabled and Object Lock enabled. Every store must be
reachable; an SFTP store's host key must be known and match.
"""

from __future__ import annotations

import logging
from pathlib import Path

from orchestrator.config import LoadedConfig
from orchestrator.errors import OrchestratorError
from orchestrator.integrations.stores.base import Store
from orchestrator.integrations.stores.factory import open_store
from orchestrator.integrations.stores.s3 import S3Store
from orchestrator.rules.rotation import lock_seconds
from orchestrator.rules.rule import RulePack

logger = logging.getLogger(__name__)


def holds_recovery_points(config: LoadedConfig, name: str) -> bool:
    """Return True when some system keeps its recovery points (or their copies) in store name."""
    return any(
        name in (system.primary_store, system.offsite_store) for system in config.model.systems
    )


def check_store(config: LoadedConfig, pack: RulePack, name: str) -> list[str]:
    """Given the config, the site's rule pack and a store name, return its problems, each
    prefixed with where the store is defined (`stores[1] offsite: …`); an empty list when it
    is usable."""
    settings = config.store_settings(name, lock_seconds(pack))
    where = f"{settings.where} {name}"
    try:
        store = open_store(settings)
    except OrchestratorError as error:
        return [f"{where}: {error}"]
    try:
        problems = _check(store, config, name)
    except (OrchestratorError, OSError) as error:
        problems = [str(error)]
    finally:
        store.close()
    return [f"{where}: {problem}" for problem in problems]


def _check(store: Store, config: LoadedConfig, name: str) -> list[str]:
    from orchestrator.integrations.stores.file import FileStore
    from orchestrator.integrations.stores.sftp import SftpStore

    if isinstance(store, S3Store):
        return check_s3_bucket(store, must_lock=holds_recovery_points(config, name))
    if isinstance(store, SftpStore):
        store.files.stat(store.root)  # connects: host key checked strictly, login, path
        return []
    if isinstance(store, FileStore):
        return check_directory(store.root)
    return []


def check_directory(root: Path) -> list[str]:
    """Return problems with a file:// store root (it, or its parent, must exist)."""
    if root.is_dir() or root.parent.is_dir():
        return []
    return [f"root {root}: neither it nor its parent directory exists (is the NFS mount up?)"]


def check_s3_bucket(store: S3Store, *, must_lock: bool) -> list[str]:
    """Return what an S3 store's bucket lacks: reachable; when it holds recovery points,
    versioning Enabled and Object Lock enabled."""
    bucket = f"bucket {store.bucket} at {store.endpoint_url or 'AWS'}"
    with store.errors(""):
        store.client.head_bucket(Bucket=store.bucket)
    if not must_lock:
        return []
    problems = []
    with store.errors(""):
        status = store.client.get_bucket_versioning(Bucket=store.bucket).get("Status")
    if status != "Enabled":
        problems.append(
            f"{bucket}: versioning is {'suspended' if status else 'not enabled'}; recovery "
            "points need versioning Enabled (put-bucket-versioning Status=Enabled)"
        )
    enabled, default_seconds = store.lock_settings()
    if not enabled:
        problems.append(
            f"{bucket}: Object Lock is not enabled; recovery points must be immutable for "
            "the rotation period (backup.rotation, 260号 第七条). Create the bucket with "
            "--object-lock-enabled-for-bucket, or enable it on the versioned bucket "
            "(put-object-lock-configuration ObjectLockEnabled=Enabled)"
        )
    logger.debug(
        "store %s: versioning %s, object lock %s (default %.0f s)",
        store.name,
        status,
        enabled,
        default_seconds,
    )
    return problems
