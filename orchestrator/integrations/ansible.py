"""The one call site of ansible-runner.

Decisions are taken on the runner's structured status, rc and events; stdout is never parsed.
Our playbook modules return a `dr_result` object ({"name": …, …}); those are collected per
host from the `runner_on_ok` events. Every event is kept, raw, as JSON lines for the evidence.

No secret reaches the disk on our behalf: ansible-runner records the environment of each run
(`artifacts/<ident>/command`), so the environment it gets is cut down to what Ansible needs
(`make_runner_environment`), and the secrets a run needs are handed over on a private socket
(`integrations/secret_channel.py`, read by the `dr_secret` lookup plugin). The runner's private
directory is removed when the run ends, whatever the outcome.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from orchestrator.errors import InfrastructureError
from orchestrator.integrations.secret_channel import SOCKET_VARIABLE, SecretChannel
from orchestrator.integrations.ssh_control import SSH_ARGS, control_directory
from orchestrator.integrations.stop_signals import cancel_on_stop_signals
from orchestrator.resources import resource_path
from orchestrator.secret_names import MASK, is_secret_name, is_secret_variable

if TYPE_CHECKING:
    from ansible_runner.runner import Runner

logger = logging.getLogger(__name__)
_IMPORT_LOCK = threading.Lock()

PLAYBOOK_DIR = resource_path("playbooks")
ANSIBLE_CONFIG = PLAYBOOK_DIR / "ansible.cfg"
PLAYBOOK_TIMEOUT_SECONDS = 3600
# How a run that did not finish is reported; `canceled` is a stop signal whose handler did not
# end the command (`drctl serve`'s clean stop), never a timeout.
STOPPED = {"timeout": "timeout after {}s", "canceled": "canceled: drctl was asked to stop"}
# The environment a playbook run gets: what Ansible and its ssh need, nothing else; names
# that look secret (secret_names.is_secret_variable) are dropped even from these (a *_FILE
# variable names a path, not a secret).
KEPT_VARIABLES = frozenset(
    ("PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TERM")
    + ("SSH_AUTH_SOCK", "VIRTUAL_ENV", "ORIGINAL_STDOUT_CALLBACK")
)
KEPT_PREFIXES = ("LC_", "ANSIBLE_", "AWX_")
# extravars keys whose values name a secret variable the run may read through the channel
SECRET_NAME_KEYS = ("password_env",)
# ansible-runner's settings (private_data_dir/env/settings; the runner drops the `settings`
# argument when that file is missing): stdout is never parsed, so no copy of it on disk.
RUNNER_SETTINGS = {"suppress_output_file": True}


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
    rescued: tuple[str, ...] = ()  # failures a block's rescue handled (the play went on)

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


def play_started(run: PlaybookRun, play: str) -> float:
    """Return when the play called play began in run (epoch seconds, from the runner's
    `playbook_on_play_start` event), or raise InfrastructureError if it never began."""
    with open(run.events_path, encoding="utf-8") as events:
        for line in events:
            event = json.loads(line)
            data = event.get("event_data", {})
            if event.get("event") == "playbook_on_play_start" and data.get("play") == play:
                created = datetime.fromisoformat(event["created"])
                if created.tzinfo is None:  # ansible-runner writes UTC without an offset
                    created = created.replace(tzinfo=UTC)
                return created.timestamp()
    raise InfrastructureError(f"playbook {run.playbook}: play {play!r} never began")


def make_envvars(work_dir: Path, control_dir: Path | None = None) -> dict[str, str]:
    """Return the environment every playbook runs with.

    The settings live in playbooks/ansible.cfg (strict host keys, pipelining, the
    dr.orchestrator collection), which ANSIBLE_CONFIG names, so ansible-playbook and
    ansible-lint run by hand from playbooks/ behave as drctl's runs do. Besides that file,
    only this run's own settings are set here, and host key checking again: ansible-runner
    turns it off unless the environment says otherwise, and the environment beats the file.
    Given the run's control directory, SSH connections are reused within the run (SSH_ARGS,
    sockets in that directory only); without one, ansible.cfg's one connection per task holds.
    The remote temp dir is Ansible's default, ~/.ansible/tmp of the remote user (a host may
    set ansible_remote_tmp in the inventory), never a fixed path shared by every user.
    """
    envvars = {
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
        "ANSIBLE_CONFIG": str(ANSIBLE_CONFIG),
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        "ANSIBLE_LOCAL_TEMP": str(work_dir / "tmp-local"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_DEPRECATION_WARNINGS": "False",
    }
    if control_dir is not None:
        envvars["ANSIBLE_SSH_ARGS"] = SSH_ARGS
        envvars["ANSIBLE_SSH_CONTROL_PATH_DIR"] = str(control_dir)
    return envvars


def runner_directory_holder(name: str) -> int | None:
    """Given the name of a runner private directory (`<pid>-<ident>`), return the pid of the
    process that made it, or None when the name is not one of ours."""
    pid, _, ident = name.partition("-")
    return int(pid) if pid.isdigit() and ident else None


def make_runner_environment(environment: Mapping[str, str]) -> dict[str, str]:
    """Given the environment ansible-runner prepared, return the part a playbook run may see
    (and that the runner may record): kept names only, and none that looks secret."""
    kept = {
        name: value
        for name, value in environment.items()
        if (name in KEPT_VARIABLES or name.startswith(KEPT_PREFIXES))
        and (name.endswith("_FILE") or not is_secret_variable(name))
    }
    if SOCKET_VARIABLE in environment:  # the channel's path, not a secret
        kept[SOCKET_VARIABLE] = environment[SOCKET_VARIABLE]
    return kept


def secret_names(value: Any) -> Iterator[str]:
    """Yield every secret variable name the extravars refer to (`password_env` values)."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key in SECRET_NAME_KEYS and isinstance(item, str) and item:
                yield item
            else:
                yield from secret_names(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from secret_names(item)


def redact(value: Any) -> Any:
    """Return value with the contents of secret-named keys replaced by '***', so none
    reaches an event file, whatever a module or task echoes back."""
    if isinstance(value, dict):
        return {
            key: MASK if is_secret_name(str(key)) else redact(item) for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


class EventCollector:
    """The runner's event handler: keeps every event (redacted) as a JSON line, and collects
    the dr_result objects, task failures and unreachable hosts per host. It answers False to
    every event: the runner then writes no second, unredacted copy of it into its artifacts
    (the JSON lines here are the one record)."""

    def __init__(self, events_file: TextIO) -> None:
        self.events_file = events_file
        self.results: dict[str, dict[str, Any]] = {}
        self.failures: list[tuple[str, str]] = []
        self.unreachable: list[str] = []
        self.failed_hosts: set[str] | None = None  # from the closing stats, if they came

    def __call__(self, event: dict[str, Any]) -> bool:
        self.events_file.write(json.dumps(redact(event), ensure_ascii=False, default=str) + "\n")
        data = event.get("event_data", {})
        host = data.get("host", "")
        kind = event.get("event")
        res = data.get("res") or {}
        if kind == "runner_on_ok":
            for item in res.get("results", [res]) if isinstance(res, dict) else []:
                dr_result = item.get("dr_result") if isinstance(item, dict) else None
                if isinstance(dr_result, dict) and "name" in dr_result:
                    self.results.setdefault(host, {})[dr_result["name"]] = dr_result
        elif kind == "runner_on_failed" and not data.get("ignore_errors"):
            message = f"{host}: {data.get('task', '')}: {res.get('msg', 'failed')}"
            self.failures.append((host, message))
        elif kind == "runner_on_unreachable":
            self.unreachable.append(f"{host}: {res.get('msg', 'unreachable')}")
        elif kind == "playbook_on_stats":
            self.failed_hosts = {h for h, n in (data.get("failures") or {}).items() if n}
        return False

    def split_failures(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Return (failures, rescued): a failure on a host the closing stats count as not
        failed was handled by a block's rescue. Without stats (a killed run) all count."""
        if self.failed_hosts is None:
            return tuple(m for _h, m in self.failures), ()
        failed = tuple(m for h, m in self.failures if h in self.failed_hosts)
        rescued = tuple(m for h, m in self.failures if h not in self.failed_hosts)
        return failed, rescued


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
    private_dir = work_dir / "runner" / f"{os.getpid()}-{ident}"
    private_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    (private_dir / "env").mkdir(exist_ok=True, mode=0o700)
    (private_dir / "env" / "settings").write_text(json.dumps(RUNNER_SETTINGS), encoding="utf-8")
    events_path = work_dir / "events" / f"{ident}.jsonl"
    events_path.parent.mkdir(parents=True, exist_ok=True)
    with open(events_path, "w", encoding="utf-8") as events_file:
        events = EventCollector(events_file)
        logger.info("playbook %s (%s) on %s", playbook, ident, limit or "all")
        try:
            runner = _run_runner(
                private_dir,
                events,
                playbook=playbook,
                inventory=inventory,
                extravars=extravars,
                limit=limit,
                ident=ident,
                work_dir=work_dir,
                timeout=timeout,
            )
        finally:
            # The artifacts hold a copy of the stdout and the command line; the events are ours.
            shutil.rmtree(private_dir, ignore_errors=True)
    failures, rescued = events.split_failures()
    run = PlaybookRun(
        playbook=playbook,
        ident=ident,
        status=str(runner.status),
        rc=int(runner.rc if runner.rc is not None else -1),
        events_path=events_path,
        results=events.results,
        failures=failures,
        unreachable=tuple(events.unreachable),
        rescued=rescued,
    )
    unreachable = events.unreachable
    if unreachable:
        raise InfrastructureError(
            f"playbook {playbook}: unreachable host(s): " + "; ".join(unreachable)
        )
    if run.status in STOPPED:
        raise InfrastructureError(f"playbook {playbook}: {STOPPED[run.status].format(timeout)}")
    logger.info("playbook %s finished: %s rc=%s", playbook, run.status, run.rc)
    return run


def _run_runner(
    private_dir: Path,
    events: EventCollector,
    *,
    playbook: str,
    inventory: Path,
    extravars: Mapping[str, Any],
    limit: str | None,
    ident: str,
    work_dir: Path,
    timeout: int,
) -> Runner:
    """Run the playbook in ansible-runner with the secret channel open and the environment
    cut down (make_runner_environment); return the finished runner."""
    init_runner = _init_runner()
    began = time.monotonic()
    with (
        SecretChannel(set(secret_names(extravars))) as channel,
        control_directory(work_dir) as control_dir,
        cancel_on_stop_signals() as stopped,
    ):
        runner = init_runner(
            private_data_dir=str(private_dir),
            project_dir=str(PLAYBOOK_DIR),
            playbook=playbook,
            inventory=str(inventory),
            extravars=dict(extravars),
            limit=limit,
            ident=ident,
            envvars={**make_envvars(work_dir, control_dir), **channel.envvars},
            event_handler=events,
            quiet=True,
            timeout=timeout,
            suppress_env_files=True,
            rotate_artifacts=20,
            cancel_callback=stopped,
        )
        # The runner seeded the run's environment with ours: cut it down before it is
        # recorded in artifacts/<ident>/command and handed to ansible-playbook.
        runner.config.env = make_runner_environment(runner.config.env)
        runner.run()
    logger.debug("ansible-runner %s (%s): %.3f s", playbook, ident, time.monotonic() - began)
    return runner


def _init_runner() -> Any:
    """Import ansible-runner (on first use: it is slow to import) under a lock. Its package
    binds `ansible_runner.plugins` to a subpackage first and to the plugin dict last: a second
    thread (`serve --workers N`) starting a run in between failed with "'module' object is not
    iterable". Its pty child is then closed without pexpect's fixed wait (runner_pty)."""
    with _IMPORT_LOCK:
        import ansible_runner  # noqa: F401 - the whole package, before any run starts
        import ansible_runner.runner
        from ansible_runner.interface import init_runner

        from orchestrator.integrations import runner_pty

        runner_pty.install(ansible_runner.runner)
    return init_runner
