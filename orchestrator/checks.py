"""`drctl check-config`: the config, its rule overrides and calendar overrides, all at once.

Every command loads the config through here, so a weaker rule or a broken override file
stops every command with exit 2 before anything is written.
"""

from __future__ import annotations

from pathlib import Path

from orchestrator.config import LoadedConfig, load_config
from orchestrator.errors import InputError
from orchestrator.rules.pack import load_pack
from orchestrator.rules.rule import RulePack
from orchestrator.rules.site_overrides import apply_site_overrides
from orchestrator.rules.workdays import WorkdayCalendar


def load_checked_config(path: Path) -> LoadedConfig:
    """Given dr.yml, return the validated config; raise InputError with every problem found in
    it, its rule overrides and its calendar overrides file."""
    config = load_config(path)
    problems: list[str] = []
    try:
        site_pack(config)
    except InputError as error:
        problems += error.problems
    if config.model.calendar.overrides:
        try:
            site_calendar(config)
        except InputError as error:
            problems += [f"calendar.overrides: {error.source}: {p}" for p in error.problems]
    if problems:
        raise InputError(str(path), problems)
    return config


def site_pack(config: LoadedConfig) -> RulePack:
    """Return the rule pack with the site's stricter thresholds applied."""
    return apply_site_overrides(load_pack(), config.model.rules, str(config.path))


def site_calendar(config: LoadedConfig) -> WorkdayCalendar:
    """Return the statutory working-day calendar with the site's overrides."""
    overrides = config.model.calendar.overrides
    return WorkdayCalendar.from_overrides_file(config.resolve(overrides) if overrides else None)
