"""ansible-runner's pty child, closed without ptyprocess' fixed wait once it has been reaped.

ansible-runner runs ansible-playbook under pexpect (its `subprocess` mode is not offered for
playbook runs, and it would lose the cancel callback drctl's stop signals use). It loops until
`child.isalive()` says the child has ended, which reaps it, reads the last output, then calls
`child.close()`. ptyprocess' close sleeps `delayafterclose` (0.1 s) "to give the kernel time to
update process status" before asking whether the child still lives: for a child already reaped
there is nothing to update, so the sleep is 0.1 s of every runner call and nothing else
(ten calls in a sandbox drill: a second). A child that has not been reaped is closed as
pexpect always closes it, with the wait and, if it still lives, the terminate.

Only ansible-runner's own reference to pexpect is replaced (`install`): pexpect, and anything
else in the process that uses it, keeps its own `spawn`.
"""

from __future__ import annotations

import types

import pexpect


class ReapedChildSpawn(pexpect.spawn):
    """pexpect's spawn; close() skips the wait when the child has already been reaped."""

    def close(self, force: bool = True) -> None:
        process = getattr(self, "ptyproc", None)
        if process is not None and process.terminated:
            process.delayafterclose = 0
        super().close(force=force)


def install(runner_module: types.ModuleType) -> None:
    """Make runner_module (ansible_runner.runner) spawn its children as ReapedChildSpawn."""
    current = runner_module.pexpect
    if getattr(current, "spawn", None) is ReapedChildSpawn:
        return
    proxy = types.ModuleType(current.__name__, current.__doc__)
    proxy.__dict__.update(vars(current))
    proxy.spawn = ReapedChildSpawn  # type: ignore[attr-defined]
    setattr(runner_module, "pexpect", proxy)  # noqa: B010 - ModuleType declares no such name
