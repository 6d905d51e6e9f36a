"""`drctl keys create-kek | rotate-kek`: the key-encryption key that wraps every encrypted
recovery point's data key (docs/keys.md). The manifest signing key is `keys create`
(cli/evidence.py)."""

from __future__ import annotations

from pathlib import Path

from orchestrator.actions.key_rotation import rotate_kek
from orchestrator.actions.point_keys import kek_path
from orchestrator.cli.call import Call
from orchestrator.errors import ExitCode, InputError
from orchestrator.integrations.envelope import create_file_kek, load_file_kek
from orchestrator.runtime import open_runtime


def create_kek(call: Call) -> int:
    """Create a key-encryption key file (0600); refuse to overwrite one (exit 2)."""
    config = call.site().config
    target = Path(call.args.output).resolve() if call.args.output else kek_path(config)
    if target is None:
        raise InputError(
            str(config.path), ["encryption: not configured (add the section, or give --output)"]
        )
    if target.exists():
        raise InputError(str(target), [f"{target} exists; a key-encryption key is never replaced"])
    if call.args.dry_run:
        call.out.emit(
            {"dry_run": True, "key": str(target)},
            f"would create the key-encryption key {target} (mode 0600); nothing written",
        )
        return ExitCode.OK
    kek = create_file_kek(target)
    call.out.emit(
        {"key": str(target), "kek_id": kek.kek_id},
        f"created the key-encryption key {target} (mode 0600), id {kek.kek_id}\n"
        "escrow it now (docs/keys.md): without it every point it wraps is lost",
    )
    return ExitCode.OK


def rotate_kek_command(call: Call) -> int:
    """Re-wrap every point's data key under --new; exit 1 when a point was not re-wrapped,
    3 when a store was unreachable."""
    site = call.site()
    new_file = Path(call.args.new).resolve()
    if not new_file.is_file():  # a mistyped --new is the command line's (2), not a lost key (3)
        raise InputError(
            "--new",
            [f"{new_file}: no such file; expected the new key-encryption key (keys create-kek)"],
        )
    new = load_file_kek(new_file, "--new")
    dry_run = call.args.dry_run
    with open_runtime(site, writes=not dry_run) as runtime:
        report = rotate_kek(runtime, new, dry_run=dry_run)
    lines = [f"not re-wrapped: {line}" for line in report.not_rewrapped]
    lines += [f"unreachable store: {name}: {why}" for name, why in report.unreachable.items()]
    counts = ", ".join(f"{count} {what}" for what, count in sorted(report.counts.items()))
    lines.append(
        f"summary: {report.old_kek} -> {report.new_kek}: {counts or 'no points'}"
        + ("; dry run: nothing written" if dry_run else "")
    )
    if not (report.not_rewrapped or report.unreachable or dry_run):
        lines.append(f"every point opens under {report.new_kek}: point dr.yml at {call.args.new}")
    call.out.emit({**report.as_dict(), "dry_run": dry_run}, "\n".join(lines))
    if report.unreachable:
        return ExitCode.INFRASTRUCTURE
    return ExitCode.CHECK_FAILED if report.not_rewrapped else ExitCode.OK
