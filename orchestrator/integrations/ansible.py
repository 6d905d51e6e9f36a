"""The one call site of ansible-runner.

Decisions are taken on the runner's structured status, rc and events; stdout is never parsed.
Our playbook modules return a `dr_result` object ({"name": …, …}); those are collected per
host from the `runner_on_ok` events. Every event is kept, raw, as JSON lines for the evidence.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator.errors import InfrastructureError

logger = logging.getLogger(__name__)

PLAYBOOK_DIR = Path(__file__).resolve().parents[2] / "playbooks"
ANSIBLE_CONFIG = PLAYBOOK_DIR / "ansible.cfg"
PLAYBOOK_TIMEOUT_SECONDS = 3600
# Keys that must never reach an event file, whatever a module or task echoes back.
SECRET_KEYS = ("password", "passwd", "secret", "token", "private_key", "access_key")


@dataclass(frozen=True)
class PlaybookRun:
    """What one playbook run did, per host, from the runner's events."""

    playbook: str
    ident: str
    status: str
    rc: int
    events_path: Path
    results: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    failures: tuple[str, ...] = ()
    unreachable: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == "successful" and self.rc == 0 and not self.failures

    def result(self, host: str, name: str) -> Mapping[str, Any]:
        """Return the dr_result called name from host, or raise InfrastructureError."""
        try:
            return self.results[host][name]
        except KeyError as error:
            raise InfrastructureError(
                f"playbook {self.playbook}: host {host} returned no {name!r} result "
                f"(status {self.status}, rc {self.rc}; events in {self.events_path})"
            ) from error


def make_envvars(work_dir: Path) -> dict[str, str]:
    """Return the environment every playbook runs with.

    The settings live in playbooks/ansible.cfg (strict host keys, no ssh multiplexing, the
    dr.orchestrator collection), which ANSIBLE_CONFIG names, so ansible-playbook and
    ansible-lint run by hand from playbooks/ behave as drctl's runs do. Besides that file,
    only this run's own settings are set here, and host key checking again: ansible-runner
    turns it off unless the environment says otherwise, and the environment beats the file.
    The remote temp dir is Ansible's default, ~/.ansible/tmp of the remote user (a host may
    set ansible_remote_tmp in the inventory), never a fixed path shared by every user.
    """
    return {
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
        "ANSIBLE_CONFIG": str(ANSIBLE_CONFIG),
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        "ANSIBLE_LOCAL_TEMP": str(work_dir / "tmp-local"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_DEPRECATION_WARNINGS": "False",
    }


def redact(value: Any) -> Any:
    """Return value with the contents of secret-looking keys replaced by '***'."""
    if isinstance(value, dict):
        return {
            key: "***"
            if any(marker in str(key).lower() for marker in SECRET_KEYS)
            else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def run_playbook(
    playbook: str,
    *,
    inventory: Path,
    extravars: Mapping[str, Any],
    ident: str,
    work_dir: Path,
    limit: str | None = None,
    timeout: int = PLAYBOOK_TIMEOUT_SECONDS,
) -> PlaybookRun:
    """Run playbooks/<playbook> with ansible-runner and return what happened.

    Raise InfrastructureError when a host is unreachable (exit 3) or the runner itself fails
    to start; task failures come back in PlaybookRun.failures for the caller to judge.
    """
    import ansible_runner

    private_dir = work_dir / "runner" / ident
    private_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    events_path = work_dir / "events" / f"{ident}.jsonl"
    events_path.parent.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, Any]] = {}
    failures: list[str] = []
    unreachable: list[str] = []

    with open(events_path, "w", encoding="utf-8") as events_file:

        def handle_event(event: dict[str, Any]) -> bool:
            events_file.write(json.dumps(redact(event), ensure_ascii=False, default=str) + "\n")
            data = event.get("event_data", {})
            host = data.get("host", "")
            kind = event.get("event")
            task = data.get("task", "")
            res = data.get("res") or {}
            if kind == "runner_on_ok":
                for item in res.get("results", [res]) if isinstance(res, dict) else []:
                    dr_result = item.get("dr_result") if isinstance(item, dict) else None
                    if isinstance(dr_result, dict) and "name" in dr_result:
                        results.setdefault(host, {})[dr_result["name"]] = dr_result
            elif kind == "runner_on_failed" and not data.get("ignore_errors"):
                failures.append(f"{host}: {task}: {res.get('msg', 'failed')}")
            elif kind == "runner_on_unreachable":
                unreachable.append(f"{host}: {res.get('msg', 'unreachable')}")
            return True

        logger.info("playbook %s (%s) on %s", playbook, ident, limit or "all")
        runner = ansible_runner.run(
            private_data_dir=str(private_dir),
            project_dir=str(PLAYBOOK_DIR),
            playbook=playbook,
            inventory=str(inventory),
            extravars=dict(extravars),
            limit=limit,
            ident=ident,
            envvars=make_envvars(work_dir),
            event_handler=handle_event,
            quiet=True,
            timeout=timeout,
            suppress_env_files=True,
            rotate_artifacts=20,
        )
    # The artifacts hold a copy of the stdout and the command line; the events file is ours.
    shutil.rmtree(private_dir, ignore_errors=True)
    run = PlaybookRun(
        playbook=playbook,
        ident=ident,
        status=str(runner.status),
        rc=int(runner.rc if runner.rc is not None else -1),
        events_path=events_path,
        results=results,
        failures=tuple(failures),
        unreachable=tuple(unreachable),
    )
    if unreachable:
        raise InfrastructureError(
            f"playbook {playbook}: unreachable host(s): " + "; ".join(unreachable)
        )
    if run.status in ("timeout", "canceled"):
        raise InfrastructureError(f"playbook {playbook}: {run.status} after {timeout}s")
    logger.info("playbook %s finished: %s rc=%s", playbook, run.status, run.rc)
    return run
