"""The sample plan of a validity check (260号 第七条 「每次抽检数据量不低于10%」; A4).

A pure function over catalog rows: given the population (complete full recovery points), the
per-dataset history and a seed, return which points to restore and from which copy. Same
rows and same seed give the same plan, byte for byte (`plan_json`).

Every random choice is a SHA-256 of `<seed>:<name>`, so an auditor recomputes the sample with
`printf '%s' '<seed>:<recovery point id>' | sha256sum`. Selection, in order:

1. coverage: the `c` datasets due longest (key = when last checked, or when first seen if
   never; on equal times never-checked first, then the seeded hash of `system/dataset`),
   each with its best point; c = min(D, max(ceil(r·D), ceil(r·N)));
2. one point per system that has none yet;
3. points, best first, until ceil(r·N) are chosen;
4. bytes: the smallest remaining point that closes the gap to r·B, else the largest, until met.

"Best" = never verified first, then verified longest ago, then by the seeded hash. Bound: a
dataset present at every check is checked within ceil(D/c) ≤ ceil(1/r) consecutive checks
(10 at r = 10 %): each check moves the c oldest keys to "now", so the datasets due no later
than it shrink by c per check until it is picked.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any

from orchestrator.check_window import PERIOD_EPOCH, SEED_WINDOW_DAYS, check_period_start
from orchestrator.timefmt import iso_utc

PLAN_FORMAT = 1
ZERO_DIGEST = "0" * 64
POPULATION_TEXT = {
    "in_rotation": "every complete full recovery point within rotation (a present copy) "
    "at check time",
    "since_last_check": "complete full recovery points within rotation finished after the "
    "last counted check started",
}


@dataclass(frozen=True)
class PointRow:
    """One recovery point of the population, with where it can be read from."""

    id: str
    system: str
    dataset: str
    bytes: int
    files: int
    finished_at: float
    last_verified_at: float | None = None
    primary_store: str | None = None
    offsite_store: str | None = None


@dataclass(frozen=True)
class DatasetHistory:
    """When a dataset was last checked (any verification item) and first backed up."""

    system: str
    dataset: str
    first_seen_at: float
    last_checked_at: float | None = None

    @property
    def due_key(self) -> float:
        return self.first_seen_at if self.last_checked_at is None else self.last_checked_at


@dataclass(frozen=True)
class PlanPolicy:
    min_bytes_ratio: Fraction = Fraction(1, 10)
    min_points_ratio: Fraction = Fraction(1, 10)
    offsite_share: Fraction = Fraction(3, 10)
    population: str = "in_rotation"


@dataclass(frozen=True)
class PlanItem:
    recovery_point: str
    system: str
    dataset: str
    bytes: int
    files: int
    store: str
    source: str  # primary | offsite
    reason: str  # coverage | system | points | bytes


@dataclass(frozen=True)
class SamplePlan:
    seed: str
    seed_derivation: Mapping[str, Any]
    policy: PlanPolicy
    population_points: int
    population_bytes: int
    systems: tuple[str, ...]
    items: tuple[PlanItem, ...]
    coverage: Mapping[str, Any] = field(hash=False)
    excluded: Mapping[str, int] = field(default_factory=dict, hash=False)

    @property
    def sample_bytes(self) -> int:
        return sum(item.bytes for item in self.items)

    @property
    def required_points(self) -> int:
        return math.ceil(self.policy.min_points_ratio * self.population_points)

    @property
    def required_bytes(self) -> int:
        return math.ceil(self.policy.min_bytes_ratio * self.population_bytes)

    @property
    def bytes_ratio(self) -> Fraction:
        if self.population_bytes == 0:
            return Fraction(1 if self.population_points else 0)
        return Fraction(self.sample_bytes, self.population_bytes)

    @property
    def points_ratio(self) -> Fraction:
        if self.population_points == 0:
            return Fraction(0)
        return Fraction(len(self.items), self.population_points)

    @property
    def meets_bars(self) -> bool:
        """Return whether the plan meets both 10 % bars (and samples every system)."""
        return (
            self.population_points > 0
            and self.bytes_ratio >= self.policy.min_bytes_ratio
            and self.points_ratio >= self.policy.min_points_ratio
            and {item.system for item in self.items} == set(self.systems)
        )


def priority(seed: str, name: str) -> str:
    """Given a seed and a name (point id, `system/dataset`, `offsite:<id>`), return the hex
    SHA-256 of `<seed>:<name>`: the seeded order an auditor can recompute."""
    return hashlib.sha256(f"{seed}:{name}".encode()).hexdigest()


def derive_seed(day: date, previous_evidence_sha256: str | None) -> tuple[str, dict[str, Any]]:
    """Return the default seed `<period start>:<previous evidence digest>` and how it was made.

    Retries within one window, before a check is counted, draw the same sample: a bad draw
    cannot be re-rolled away. Windows are SEED_WINDOW_DAYS long whatever the schedule: a
    length taken from configuration would let whoever sets it pick among samples."""
    start = check_period_start(day, SEED_WINDOW_DAYS)
    previous = previous_evidence_sha256 or ZERO_DIGEST
    return f"{start.isoformat()}:{previous}", {
        "method": "period_start:previous_evidence_manifest_sha256",
        "period_start": start.isoformat(),
        "period_days": SEED_WINDOW_DAYS,
        "period_epoch": PERIOD_EPOCH.isoformat(),
        "previous_evidence_sha256": previous,
    }


def _point_key(seed: str, point: PointRow) -> tuple[bool, float, str]:
    verified = point.last_verified_at is not None
    return (verified, point.last_verified_at or 0.0, priority(seed, point.id))


def make_plan(
    population: Sequence[PointRow],
    history: Sequence[DatasetHistory],
    *,
    seed: str,
    policy: PlanPolicy,
    seed_derivation: Mapping[str, Any] | None = None,
    excluded: Mapping[str, int] | None = None,
) -> SamplePlan:
    """Given the population, per-dataset history and a seed, return the sample plan. Points
    must have a primary or off-site store; a point with neither is refused (ValueError)."""
    points = sorted(population, key=lambda p: p.id)
    for point in points:
        if point.primary_store is None and point.offsite_store is None:
            raise ValueError(f"recovery point {point.id}: no present copy to read")
    if len({p.id for p in points}) != len(points):
        raise ValueError("population: duplicate recovery point ids")
    r_points = policy.min_points_ratio
    need_points = math.ceil(r_points * len(points))
    by_dataset: dict[tuple[str, str], list[PointRow]] = {}
    for point in points:
        by_dataset.setdefault((point.system, point.dataset), []).append(point)
    known = {(h.system, h.dataset): h for h in history}

    def due(key: tuple[str, str]) -> tuple[float, bool, str]:
        entry = known.get(key)
        first = min(p.finished_at for p in by_dataset[key])
        moment = entry.due_key if entry else first
        checked = entry is not None and entry.last_checked_at is not None
        return (moment, checked, priority(seed, f"{key[0]}/{key[1]}"))

    datasets = sorted(by_dataset, key=due)
    cover = min(len(datasets), max(math.ceil(r_points * len(datasets)), need_points))
    chooser = _Chooser(seed)
    chooser.cover(points, by_dataset, datasets, cover)
    chooser.fill_points(points, need_points)
    chooser.fill_bytes(points, policy.min_bytes_ratio)
    items = _plan_items(seed, points, chooser.chosen, policy.offsite_share)
    return SamplePlan(
        seed=seed,
        seed_derivation=dict(seed_derivation or {"method": "given"}),
        policy=policy,
        population_points=len(points),
        population_bytes=sum(p.bytes for p in points),
        systems=tuple(sorted({p.system for p in points})),
        items=items,
        coverage=_coverage(datasets, known, items, cover, r_points),
        excluded=dict(excluded or {}),
    )


class _Chooser:
    """The points chosen so far, each with why: coverage, system, points or bytes."""

    def __init__(self, seed: str) -> None:
        self.seed = seed
        self.chosen: dict[str, str] = {}  # point id -> reason

    def best(self, candidates: Sequence[PointRow]) -> PointRow | None:
        left = [p for p in candidates if p.id not in self.chosen]
        return min(left, key=lambda p: _point_key(self.seed, p)) if left else None

    def cover(
        self,
        points: Sequence[PointRow],
        by_dataset: Mapping[tuple[str, str], Sequence[PointRow]],
        datasets: Sequence[tuple[str, str]],
        cover: int,
    ) -> None:
        """Pick one point of each of the `cover` most overdue datasets, then one of every
        system not yet picked."""
        for key in datasets[:cover]:
            pick = self.best(by_dataset[key])
            if pick:
                self.chosen[pick.id] = "coverage"
        for system in sorted({p.system for p in points}):
            if not any(p.system == system for p in points if p.id in self.chosen):
                keys = [k for k in datasets if k[0] == system]
                pick = self.best(by_dataset[keys[0]])
                if pick:
                    self.chosen[pick.id] = "system"

    def fill_points(self, points: Sequence[PointRow], need: int) -> None:
        """Add points in seeded order until `need` are chosen."""
        for point in sorted(points, key=lambda p: _point_key(self.seed, p)):
            if len(self.chosen) >= need:
                break
            if point.id not in self.chosen:
                self.chosen[point.id] = "points"

    def fill_bytes(self, points: Sequence[PointRow], ratio: Fraction) -> None:
        """Add points until the chosen bytes reach `ratio` of the population's: the smallest
        point that closes the gap, else the largest left."""
        total = sum(p.bytes for p in points)
        ordered = sorted(points, key=lambda p: _point_key(self.seed, p))
        picked = sum(p.bytes for p in points if p.id in self.chosen)
        # Exact integer arithmetic: picked/total >= n/d  <=>  picked·d >= n·total.
        while picked * ratio.denominator < ratio.numerator * total:
            gap = ratio.numerator * total - picked * ratio.denominator
            left = [p for p in ordered if p.id not in self.chosen]
            closing = [p for p in left if p.bytes * ratio.denominator >= gap]
            pick = (
                min(closing, key=lambda p: (p.bytes, _point_key(self.seed, p)))
                if closing
                else min(left, key=lambda p: (-p.bytes, _point_key(self.seed, p)))
            )
            self.chosen[pick.id] = "bytes"
            picked += pick.bytes


def _plan_items(
    seed: str, points: Sequence[PointRow], chosen: Mapping[str, str], offsite_share: Fraction
) -> tuple[PlanItem, ...]:
    """Return the plan's items in (system, dataset, id) order, each from its planned copy."""
    selected = [p for p in points if p.id in chosen]
    offsite = _offsite_choice(seed, selected, offsite_share)
    return tuple(
        PlanItem(
            p.id,
            p.system,
            p.dataset,
            p.bytes,
            p.files,
            store=(p.offsite_store if p.id in offsite else p.primary_store) or "",
            source="offsite" if p.id in offsite else "primary",
            reason=chosen[p.id],
        )
        for p in sorted(selected, key=lambda p: (p.system, p.dataset, p.id))
    )


def _offsite_choice(seed: str, selected: Sequence[PointRow], share: Fraction) -> set[str]:
    """Return the ids read from their off-site copy: those with no primary copy, then the
    seeded-first eligible ones until ceil(share × n)."""
    wanted = math.ceil(share * len(selected))
    forced = {p.id for p in selected if p.primary_store is None}
    eligible = sorted(
        (p for p in selected if p.offsite_store and p.id not in forced),
        key=lambda p: priority(seed, f"offsite:{p.id}"),
    )
    extra = max(0, wanted - len(forced))
    return forced | {p.id for p in eligible[:extra]}


def _coverage(
    datasets: Sequence[tuple[str, str]],
    known: Mapping[tuple[str, str], Any],
    items: Sequence[PlanItem],
    cover: int,
    r_points: Fraction,
) -> dict[str, Any]:
    sampled = {(item.system, item.dataset) for item in items}
    last = {key: entry.last_checked_at for key, entry in known.items()}
    rows = [
        {
            "system": key[0],
            "dataset": key[1],
            "last_checked_at": None if last.get(key) is None else iso_utc(last[key]),
            "sampled_now": key in sampled,
        }
        for key in datasets
    ]
    checked_ever = sum(1 for row in rows if row["last_checked_at"] or row["sampled_now"])
    return {
        "datasets": len(datasets),
        "checked_before": sum(1 for row in rows if row["last_checked_at"]),
        "checked_after_this_plan": checked_ever,
        "coverage_picks": cover,
        "bound_checks": math.ceil(len(datasets) / cover) if cover else 0,
        "bound_checks_any_population": math.ceil(1 / r_points) if r_points else None,
        "by_dataset": rows,
    }


def _ratio_text(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"


def plan_dict(plan: SamplePlan) -> dict[str, Any]:
    """Return the plan as the JSON-able dict printed by `drctl verify --plan` and kept in
    evidence; no clock time in it, so it is reproducible."""
    offsite_items = [item for item in plan.items if item.source == "offsite"]
    return {
        "format": PLAN_FORMAT,
        "seed": plan.seed,
        "seed_derivation": dict(plan.seed_derivation),
        "population": {
            "choice": plan.policy.population,
            "description": POPULATION_TEXT.get(plan.policy.population, plan.policy.population),
            "recovery_points": plan.population_points,
            "bytes": plan.population_bytes,
            "systems": list(plan.systems),
            "excluded": dict(plan.excluded),
        },
        "thresholds": {
            name: _ratio_text(getattr(plan.policy, name))
            for name in ("min_bytes_ratio", "min_points_ratio", "offsite_share")
        },
        "sample": {
            "recovery_points": len(plan.items),
            "bytes": plan.sample_bytes,
            "required_points": plan.required_points,
            "required_bytes": plan.required_bytes,
            "points_ratio": round(float(plan.points_ratio), 6),
            "bytes_ratio": round(float(plan.bytes_ratio), 6),
            "points_ratio_exact": _ratio_text(plan.points_ratio),
            "bytes_ratio_exact": _ratio_text(plan.bytes_ratio),
            "offsite_items": len(offsite_items),
            "offsite_items_wanted": math.ceil(plan.policy.offsite_share * len(plan.items)),
            "offsite_bytes": sum(item.bytes for item in offsite_items),
            "meets_bars": plan.meets_bars,
        },
        "items": [asdict(item) for item in plan.items],
        "coverage": dict(plan.coverage),
    }


def plan_json(plan: SamplePlan) -> str:
    """Return the canonical JSON text of a plan (sorted keys): same rows + seed, same text."""
    return json.dumps(plan_dict(plan), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
