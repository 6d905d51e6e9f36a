"""Load the site once: dr.yml, the rule pack with the site's stricter overrides, and the
working-day calendar with its overrides, all validated together.

Every command that needs the site calls `load_site` exactly once; everything below receives
the pieces as values (`runtime.pack`, `runtime.calendar`). A weaker rule or a broken override
file stops every command with exit 2 before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from orchestrator.config import LoadedConfig, load_config
from orchestrator.errors import InputError
from orchestrator.rules.finding import ALL_SUBJECT
from orchestrator.rules.pack import load_pack
from orchestrator.rules.rule import RulePack
from orchestrator.rules.site_overrides import apply_site_overrides, attestation_problems
from orchestrator.rules.workdays import WorkdayCalendar


@dataclass(frozen=True)
class LoadedSite:
    """The site as one validated value: its config, its rule pack and its calendar."""

    config: LoadedConfig
    pack: RulePack
    calendar: WorkdayCalendar


def load_site(path: Path, *, pack_path: Path | None = None) -> LoadedSite:
    """Given dr.yml (and optionally another rule pack file), return the validated site. Raise
    InputError with every problem found in the config, its rule overrides and its calendar
    overrides file at once."""
    config = load_config(path)
    problems: list[str] = []
    pack = calendar = None
    try:
        pack = apply_site_overrides(load_pack(pack_path), config.model.rules, str(config.path))
    except InputError as error:
        problems += error.problems
    model = config.model
    names = [*(s.name for s in model.sites), *(s.name for s in model.systems)]
    subjects = {ALL_SUBJECT, *names, *(store.name for store in model.stores)}
    if pack is not None:
        problems += attestation_problems(model.attestations, pack, subjects)
    overrides = config.model.calendar.overrides
    try:
        calendar = WorkdayCalendar.from_overrides_file(
            config.resolve(overrides) if overrides else None
        )
    except InputError as error:
        problems += [f"calendar.overrides: {error.source}: {p}" for p in error.problems]
    if problems or pack is None or calendar is None:
        raise InputError(str(path), problems)
    return LoadedSite(config, pack, calendar)
