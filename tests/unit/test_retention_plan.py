"""Rotation planning: what is deleted, and the floors no config, clock or catalog can break."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from fractions import Fraction

from hypothesis import event, given, settings
from hypothesis import strategies as st

from orchestrator.actions.retention import plan_retention
from orchestrator.model.snapshot import CopyRow, PointRow
from orchestrator.rules.rotation import HARD_FLOOR_GENERATIONS, HARD_FLOOR_SECONDS
from orchestrator.rules.rule import RulePack
from tests.fixtures.catalog_rows import (
    PACK,
    copies,
    daily_points,
    local,
    model,
    point,
    snapshot,
    with_rule,
)


def store_times(rows: list[CopyRow]) -> dict[tuple[str, str], float | None]:
    return {(c.store, c.recovery_point_id): c.written_at for c in rows}


def test_deletes_only_beyond_eight_generations_and_older_than_seven_days() -> None:
    points = daily_points("ledger", date(2024, 3, 1), 20)
    rows = [c for p in points for c in copies(p)]
    at = local(date(2024, 3, 21), 21)
    plan = plan_retention(model(), PACK, snapshot(points, rows), store_times(rows), at)
    deleted = {(d.recovery_point_id, d.store) for d in plan.deletions}
    expected = {(p.id, store) for p in points[:12] for store in ("primary", "offsite")}
    assert deleted == expected
    assert plan.kept == {"core-banking/ledger@offsite": 8, "core-banking/ledger@primary": 8}
    assert all("beyond the newest 8 generations" in d.reason for d in plan.deletions)


def test_log_datasets_are_kept_184_days() -> None:
    points = daily_points("oplogs", date(2024, 1, 1), 60)
    rows = [c for p in points for c in copies(p)]
    plan = plan_retention(
        model(), PACK, snapshot(points, rows), store_times(rows), local(date(2024, 3, 1))
    )
    assert plan.deletions == ()


def test_store_write_time_later_than_the_catalog_keeps_the_copy() -> None:
    points = daily_points("ledger", date(2024, 3, 1), 20)
    rows = [c for p in points for c in copies(p)]
    times = store_times(rows)
    # The store says the oldest copy was (re)written yesterday: the later time wins.
    times[("primary", points[0].id)] = local(date(2024, 3, 20)).timestamp()
    times[("offsite", points[1].id)] = None  # unknown store time: kept
    plan = plan_retention(model(), PACK, snapshot(points, rows), times, local(date(2024, 3, 21)))
    deleted = {(d.recovery_point_id, d.store) for d in plan.deletions}
    assert (points[0].id, "primary") not in deleted and (points[0].id, "offsite") in deleted
    assert (points[1].id, "offsite") not in deleted
    assert any("write time is unknown" in note for note in plan.notes)


def test_a_clock_jumped_forward_cannot_expire_a_store_without_newer_data() -> None:
    points = daily_points("ledger", date(2024, 3, 1), 10)
    rows = [c for p in points for c in copies(p)]
    # Ten backups on consecutive days, then the clock says it is a year later: the two oldest
    # are beyond 8 generations but the store holds nothing written 7 days after the second.
    plan = plan_retention(
        model(), PACK, snapshot(points, rows), store_times(rows), local(date(2025, 3, 1))
    )
    assert {d.recovery_point_id for d in plan.deletions} == {points[0].id, points[1].id}
    same_day = [point("ledger", date(2024, 3, 1), hour=h, suffix=str(h)) for h in range(1, 12)]
    rows = [c for p in same_day for c in copies(p)]
    plan = plan_retention(
        model(), PACK, snapshot(same_day, rows), store_times(rows), local(date(2025, 3, 1))
    )
    assert plan.deletions == ()


def _weakened(pack: RulePack, days: int, generations: int) -> RulePack:
    """A pack whose rotation values bypassed the override check (as a corrupted config)."""
    rule = pack.get("backup.rotation")
    thresholds = {
        "min_days": replace(rule.threshold("min_days"), value=Fraction(days)),
        "min_generations": replace(rule.threshold("min_generations"), value=Fraction(generations)),
    }
    return with_rule(pack, "backup.rotation", thresholds=thresholds)


history = st.lists(
    st.tuples(
        st.integers(0, 40),  # business day offset
        st.integers(0, 23),  # hour
        st.integers(-3 * 86400, 3 * 86400),  # catalog skew of the copy's write time
        st.one_of(st.none(), st.integers(-3 * 86400, 3 * 86400)),  # store skew / unknown
        st.sampled_from(["primary", "offsite"]),
    ),
    min_size=5,
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(
    history=history,
    clock_offset=st.integers(-10 * 86400, 400 * 86400),
    days=st.integers(1, 40),
    generations=st.integers(1, 12),
    dataset=st.sampled_from(["ledger", "oplogs"]),
)
def test_never_deletes_younger_than_seven_days_or_below_eight_generations(
    history: list[tuple[int, int, int, int | None, str]],
    clock_offset: int,
    days: int,
    generations: int,
    dataset: str,
) -> None:
    base = date(2024, 1, 1)
    points: list[PointRow] = []
    rows: list[CopyRow] = []
    times: dict[tuple[str, str], float | None] = {}
    for index, (offset, hour, catalog_skew, store_skew, store) in enumerate(history):
        p = point(dataset, base + timedelta(days=offset), hour=hour, suffix=f"-{index}")
        points.append(p)
        site = "production" if store == "primary" else "disaster-recovery"
        rows.append(
            CopyRow(
                p.id,
                store,
                site,
                p.finished_at + catalog_skew,
                p.finished_at + catalog_skew,
                "present",
            )
        )
        times[(store, p.id)] = None if store_skew is None else p.finished_at + store_skew
    newest = max((p.finished_at for p in points), default=local(base).timestamp())
    at = datetime.fromtimestamp(newest + clock_offset).astimezone()
    plan = plan_retention(
        model(), _weakened(PACK, days, generations), snapshot(points, rows), times, at
    )
    event(f"deletions: {'some' if plan.deletions else 'none'}")
    by_id = {p.id: p for p in points}
    now = at.timestamp()
    for deletion in plan.deletions:
        store_time = times[(deletion.store, deletion.recovery_point_id)]
        assert store_time is not None
        assert now - deletion.catalog_written_at >= HARD_FLOOR_SECONDS
        assert now - store_time >= HARD_FLOOR_SECONDS
        assert now - by_id[deletion.recovery_point_id].finished_at >= HARD_FLOOR_SECONDS
    deleted = {(d.store, d.recovery_point_id) for d in plan.deletions}
    for store in ("primary", "offsite"):
        before = {by_id[c.recovery_point_id].business_date for c in rows if c.store == store}
        after = {
            by_id[c.recovery_point_id].business_date
            for c in rows
            if c.store == store and (store, c.recovery_point_id) not in deleted
        }
        assert len(after) >= min(HARD_FLOOR_GENERATIONS, len(before))
        newest_dates = sorted(before, reverse=True)[:HARD_FLOOR_GENERATIONS]
        assert set(newest_dates) <= after


def test_a_copy_at_the_production_site_is_kept_until_the_point_is_verified_off_site() -> None:
    # The off-site copies stopped after the fifth day (link down, copies failing): the later
    # points exist only in the primary store and rotation must not destroy them there.
    points = daily_points("ledger", date(2024, 3, 1), 20)
    rows = [c for p in points[:5] for c in copies(p)]
    rows += [c for p in points[5:] for c in copies(p, offsite_after=None)]
    # An off-site copy that is present but was never verified there does not count either.
    unverified = [c for c in copies(points[5]) if c.store == "offsite"][0]
    rows.append(replace(unverified, verified_at=None))
    at = local(date(2024, 3, 21), 21)
    plan = plan_retention(model(), PACK, snapshot(points, rows), store_times(rows), at)
    deleted = {(d.recovery_point_id, d.store) for d in plan.deletions}
    assert {p for p, store in deleted if store == "primary"} == {p.id for p in points[:5]}
    assert all(
        any(f"{p.id}@primary: no verified copy at another site" in n for n in plan.notes)
        for p in points[5:12]
    )
