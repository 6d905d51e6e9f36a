"""`drctl check-config --connect`: what a backup needs besides a valid dr.yml.

- every dataset's and replication link's password variable (`password_env`) is set in drctl's
  environment;
- every site's host is reachable with strict host-key checking (the known_hosts the inventory
  names, as Ansible uses it) and its spool is writable (a probe file, removed at once);
- every store is writable (a probe object removed at once; on S3 a multipart upload that is
  created and aborted, so Object Lock keeps nothing) and, when it holds recovery points, locked
  (S3 versioning and Object Lock, checked by store_checks.check_store).

Each problem carries the exit code it stands for: an unset variable or a store that cannot be
locked is a configuration error (2), an unreachable host or store infrastructure (3).
"""

from __future__ import annotations

import logging
import os
import uuid
from dataclasses import dataclass

from orchestrator.config import LoadedConfig
from orchestrator.errors import ExitCode, InputError, OrchestratorError
from orchestrator.integrations.hosts import open_host_files
from orchestrator.integrations.stores.base import Store
from orchestrator.integrations.stores.factory import open_store
from orchestrator.rules.rotation import lock_seconds
from orchestrator.rules.rule import RulePack

logger = logging.getLogger(__name__)
PROBE_PREFIX = ".drctl-probe-"


@dataclass(frozen=True)
class Problem:
    """One thing that would stop a backup: where (a dr.yml path), what, and its exit code."""

    where: str
    message: str
    exit_code: ExitCode

    def describe(self) -> str:
        return f"{self.where}: {self.message}"


def check_passwords(config: LoadedConfig) -> list[Problem]:
    """Return a problem for every dataset or replication link whose password variable is not
    set."""
    problems = []
    for i, system in enumerate(config.model.systems):
        for j, dataset in enumerate(system.datasets):
            name = dataset.password_env
            if name and not os.environ.get(name):
                problems.append(
                    Problem(
                        f"systems[{i}].datasets[{j}].password_env",
                        f"environment variable {name} (password of {system.name}/"
                        f"{dataset.name}) is not set where drctl runs",
                        ExitCode.USAGE,
                    )
                )
        for j, link in enumerate(system.replication.links if system.replication else ()):
            if link.password_env and not os.environ.get(link.password_env):
                problems.append(
                    Problem(
                        f"systems[{i}].replication.links[{j}].password_env",
                        f"environment variable {link.password_env} (password of the "
                        f"replication probe of {system.name}/{link.name}) is not set where "
                        "drctl runs",
                        ExitCode.USAGE,
                    )
                )
    return problems


def check_hosts(config: LoadedConfig) -> list[Problem]:
    """Return a problem for every site whose host cannot be reached with strict host-key
    checking, or whose spool cannot be written."""
    problems = []
    for i, site in enumerate(config.model.sites):
        where = f"sites[{i}] {site.name} (host {site.host})"
        probe = f"{site.spool.rstrip('/')}/{PROBE_PREFIX}{uuid.uuid4().hex[:12]}"
        try:
            files = open_host_files(config.inventory, site.host)
        except OrchestratorError as error:
            problems.append(Problem(where, str(error), _code(error)))
            continue
        try:
            files.write_stream(probe, [b"drctl check-config --connect\n"])
            files.remove(probe)
        except (OrchestratorError, OSError) as error:
            problems.append(
                Problem(where, f"spool {site.spool} is not writable: {error}", _code(error))
            )
        finally:
            files.close()
        logger.info("host %s of site %s: reachable, spool writable", site.host, site.name)
    return problems


def check_store_writable(config: LoadedConfig, pack: RulePack, name: str) -> list[Problem]:
    """Return a problem when the store cannot be written (or reached)."""
    settings = config.store_settings(name, lock_seconds(pack))
    where = f"{settings.where} {name}"
    try:
        store = open_store(settings)
    except OrchestratorError as error:
        return [Problem(where, str(error), _code(error))]
    try:
        _probe_write(store)
    except (OrchestratorError, OSError) as error:
        return [Problem(where, f"not writable: {error}", _code(error))]
    finally:
        store.close()
    return []


def _probe_write(store: Store) -> None:
    """Write and remove a probe in store; raise when it cannot be written."""
    from orchestrator.integrations.stores.file import FileStore
    from orchestrator.integrations.stores.s3 import S3Store
    from orchestrator.integrations.stores.sftp import SftpStore

    key = f"{PROBE_PREFIX}{uuid.uuid4().hex[:12]}"
    if isinstance(store, S3Store):
        # A created-then-aborted multipart upload proves s3:PutObject without leaving an
        # object that Object Lock would keep for the whole retention period.
        with store.errors(key):
            upload = store.client.create_multipart_upload(
                Bucket=store.bucket, Key=store.object_key(key)
            )
            store.client.abort_multipart_upload(
                Bucket=store.bucket, Key=store.object_key(key), UploadId=upload["UploadId"]
            )
    elif isinstance(store, SftpStore):
        remote = f"{store.root}/{key}"
        store.files.write_atomic(remote, [b"drctl probe\n"])
        store.files.remove(remote)
    elif isinstance(store, FileStore):
        # Probe where the first backup would write: the root, or the directory it is made in.
        directory = store.root if store.root.is_dir() else store.root.parent
        path = directory / key
        path.write_bytes(b"drctl probe\n")
        path.unlink()


def _code(error: BaseException) -> ExitCode:
    if isinstance(error, InputError):
        return ExitCode.USAGE
    if isinstance(error, OrchestratorError):
        return error.exit_code
    return ExitCode.INFRASTRUCTURE


def unlocked_stores(config: LoadedConfig) -> list[Problem]:
    """Return a note (exit code 0) for every directory or SFTP store that holds recovery
    points: such a store cannot be made immutable, so backup.rotation rests on drctl's
    deletion floor alone there."""
    notes = []
    for index, store in enumerate(config.model.stores):
        holds = any(
            store.name in (system.primary_store, system.offsite_store)
            for system in config.model.systems
        )
        if holds and not config.store_url(store.name).startswith("s3://"):
            notes.append(
                Problem(
                    f"stores[{index}] {store.name}",
                    "not immutable (no Object Lock outside S3): only drctl's deletion floor "
                    "keeps recovery points for the rotation period",
                    ExitCode.OK,
                )
            )
    return notes


def check_connections(config: LoadedConfig, pack: RulePack) -> list[Problem]:
    """Return every problem `check-config --connect` finds (see the module docstring), and the
    notes (exit code 0) on stores that cannot be locked."""
    problems = check_passwords(config) + check_hosts(config)
    for store in config.model.stores:
        problems += check_store_writable(config, pack, store.name)
    return problems + unlocked_stores(config)
