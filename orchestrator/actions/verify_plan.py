"""From the catalog to a sample plan: the population, the history, the policy and the seed.

Reads the catalog only (no store, no host), so `drctl verify --plan` touches no data.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, Row, select

from orchestrator.actions.evidence_setup import evidence_key
from orchestrator.check_window import check_date
from orchestrator.evidence.sample_seed import signed_seed
from orchestrator.evidence.seed_history import previous_counted_check
from orchestrator.model import catalog as cat
from orchestrator.model import schema
from orchestrator.model.plan import (
    DatasetHistory,
    PlanPolicy,
    PointRow,
    SamplePlan,
    derive_seed,
    make_plan,
)
from orchestrator.model.settings import Config
from orchestrator.runtime import Runtime

logger = logging.getLogger(__name__)
# A seed given on the command line makes an operator-chosen sample, not the random one 260号
# 第七条 asks for (R25): its check is run and recorded, never counted (actions/verify_sample.py).
SEED_GIVEN = "given on the command line"


@dataclass(frozen=True)
class Population:
    points: tuple[PointRow, ...]
    history: tuple[DatasetHistory, ...]
    excluded: dict[str, int]


def last_counted_check(connection: Connection) -> Row[Any] | None:
    """Return the newest counted sample check row, or None."""
    return connection.execute(
        select(schema.verifications)
        .where(schema.verifications.c.kind == "sample", schema.verifications.c.counted.is_(True))
        .order_by(schema.verifications.c.finished_at.desc())
    ).first()


def _copy_stores(
    config: Config, point: Row[Any], copies: Sequence[Row[Any]]
) -> tuple[str | None, str | None]:
    """Return (primary store, off-site store) holding a present copy of a point; a copy at a
    site other than the point's source site is off-site. The system's own stores win."""
    system = config.system(point.system)
    present = [c for c in copies if c.status == "present"]
    local = sorted(
        (c.store for c in present if c.site == point.source_site),
        key=lambda name: (name != system.primary_store, name),
    )
    remote = sorted(
        (c.store for c in present if c.site != point.source_site),
        key=lambda name: (name != system.offsite_store, name),
    )
    return (local[0] if local else None, remote[0] if remote else None)


def collect_population(config: Config, connection: Connection, choice: str) -> Population:
    """Given the catalog, return the population of the configured choice (in_rotation or
    since_last_check), the per-dataset history and counts of what was left out and why."""
    points = cat.list_recovery_points(connection)
    copies: dict[str, list[Row[Any]]] = {}
    for copy in cat.list_copies(connection):
        copies.setdefault(copy.recovery_point_id, []).append(copy)
    # A point retention removed while a check read it was not judged: its dataset is not
    # checked by it, and stays as overdue as it was (the coverage bound, model/plan.py).
    items = connection.execute(
        select(
            schema.verification_items.c.recovery_point_id, schema.verification_items.c.checked_at
        ).where(schema.verification_items.c.status != "removed")
    ).all()
    known_systems = {s.name: {d.name for d in s.datasets} for s in config.systems}
    since = None
    if choice == "since_last_check":
        previous = last_counted_check(connection)
        since = previous.started_at if previous is not None else None
    excluded = {"bad": 0, "no_present_copy": 0, "before_last_check": 0, "not_in_config": 0}
    rows = []
    for point in points:
        if point.dataset not in known_systems.get(point.system, set()):
            excluded["not_in_config"] += 1
            continue
        if point.status != "complete":
            excluded["bad"] += 1
            continue
        primary, offsite = _copy_stores(config, point, copies.get(point.id, []))
        if primary is None and offsite is None:
            excluded["no_present_copy"] += 1
            continue
        if since is not None and point.finished_at <= since:
            excluded["before_last_check"] += 1
            continue
        rows.append(
            PointRow(
                point.id,
                point.system,
                point.dataset,
                int(point.total_bytes),
                int(point.file_count),
                float(point.finished_at),
                point.last_verified_at,
                primary,
                offsite,
            )
        )
    history = _history(points, items)
    return Population(tuple(rows), history, {k: v for k, v in excluded.items() if v})


def _history(points: Sequence[Row[Any]], items: Sequence[Any]) -> tuple[DatasetHistory, ...]:
    """Return each dataset's first backup and last check, from the points and the checked
    items (recovery point id, checked_at)."""
    owner = {p.id: (p.system, p.dataset) for p in points}
    checked: dict[tuple[str, str], float] = {}
    for point_id, checked_at in items:
        key = owner.get(point_id)
        if key is not None:
            checked[key] = max(checked.get(key, 0.0), float(checked_at))
    first: dict[tuple[str, str], float] = {}
    for point in points:
        key = (point.system, point.dataset)
        first[key] = min(first.get(key, float(point.finished_at)), float(point.finished_at))
    return tuple(
        DatasetHistory(system, dataset, first[(system, dataset)], checked.get((system, dataset)))
        for system, dataset in sorted(first)
    )


def make_policy(runtime: Runtime) -> PlanPolicy:
    """Return the plan policy: the site's 10 % bars (or stricter) and the off-site share."""
    rule = runtime.pack.get("verify.sample")
    settings = runtime.config.model.verification
    return PlanPolicy(
        min_bytes_ratio=rule.value("min_bytes_ratio"),
        min_points_ratio=rule.value("min_points_ratio"),
        offsite_share=Fraction(str(settings.offsite_share)),
        population=settings.population,
    )


def build_plan(
    runtime: Runtime, seed: int | str | None = None, *, at: float | None = None
) -> SamplePlan:
    """Given the runtime (and optionally a seed), return the sample plan of a check now.

    Without a seed, derive it from the 28-day window of today's date and the evidence
    digest of the evidence chain's last counted check (zeros if none), signed with the site's
    evidence key (InputError, exit 2, when that key is missing or not pinned). The chain, not
    the catalog, names that check: it is what `evidence verify` checks the seed against, and a
    check killed after its package but before its catalog row is counted in it."""
    policy = make_policy(runtime)
    with runtime.catalog.begin() as connection:
        population = collect_population(runtime.config.model, connection, policy.population)
    if seed is None:  # the window, signed: evidence/sample_seed.py
        key = evidence_key(runtime.config)
        previous = previous_counted_check(runtime.config.evidence_dir, key)
        message, window = derive_seed(check_date(at or cat.now()), previous)
        text, signed = signed_seed(key, message)
        derivation = {**window, **signed}
    else:
        text, derivation = str(seed), {"method": SEED_GIVEN}
    return make_plan(
        population.points,
        population.history,
        seed=text,
        policy=policy,
        seed_derivation=derivation,
        excluded=population.excluded,
    )
