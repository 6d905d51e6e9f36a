"""The bounded snapshot `status` and a scrape judge (model/judged_snapshot.py, rules/judged.py):
its copy aggregates on edge rows — ties, copies deleted on time, early, or after the instant,
lost and bad copies, bad points, datasets with no point, copies written later — its point
aggregates (model/point_history.py) — working-day gaps across 1 January and holidays, equal
longest gaps, a date backed up twice, ties at the first finish, ciphers mixed — and every
verdict equal to the one judged from every row, at instants that fall on those rows' times."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import insert

from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.errors import CalendarDataMissing
from orchestrator.model import schema
from orchestrator.model.catalog import Catalog
from orchestrator.model.judged_snapshot import read_history
from orchestrator.model.point_history import read_point_history
from orchestrator.model.snapshot import CopyRow, PointRow, read_catalog
from orchestrator.rules.evaluate import evaluate_all
from orchestrator.rules.finding import Context
from orchestrator.rules.judged import judged_snapshot, working_day_numbers
from orchestrator.runtime import open_runtime
from orchestrator.site import LoadedSite, load_site
from tests.fixtures.catalog_rows import DAY, copies, daily_points, point, point_row
from tests.fixtures.databases import PostgresServer, pg_create_database

SYSTEM = "core-banking"
FIRST = date(2026, 3, 2)


def _rows() -> tuple[list[PointRow], list[CopyRow]]:
    points: list[PointRow] = []
    rows: list[CopyRow] = []
    ledger = daily_points("ledger", FIRST, 60)
    for index, p in enumerate(ledger):
        primary = copies(p, deleted_after=8 * DAY, primary="deleted", offsite="deleted")
        if index >= 52:  # the newest eight are still held in both stores
            primary = copies(p)
        rows += primary
    early = point("ledger", FIRST + timedelta(days=20), suffix="-early")
    rows += copies(early, deleted_after=2 * DAY, primary="deleted", offsite="deleted")
    tie = point("ledger", FIRST + timedelta(days=59), suffix="-tie")  # same finish as the last
    rows += copies(tie, offsite="lost")
    bad = point("ledger", FIRST + timedelta(days=62), suffix="-bad", status="bad")
    rows += copies(bad, offsite="bad")  # a date of its own, not counted: the point is bad
    oplogs = daily_points("oplogs", FIRST, 120)  # kept 35 d: dropped inside the 184-d window
    oplogs.append(point("oplogs", FIRST, suffix="-tie"))  # the oldest dropped, tied
    for p in oplogs:
        rows += copies(p, deleted_after=35 * DAY, primary="deleted", offsite="deleted")
    uncopied = point("oplogs", FIRST + timedelta(days=100), hour=10, suffix="-uncopied")
    lost_log = point("oplogs", FIRST + timedelta(days=110), hour=9, suffix="-lost")
    rows += copies(lost_log, primary="lost", offsite="lost")  # not held, never deleted
    late = point("oplogs", FIRST + timedelta(days=115), hour=9, suffix="-late")
    rows += copies(late, primary="deleted", deleted_after=35 * DAY, offsite_after=120 * DAY)
    ahead = point("oplogs", FIRST + timedelta(days=116), hour=9, suffix="-ahead")
    rows += copies(  # its only deleted copy is written after some instants judged
        ahead, primary="lost", offsite="deleted", deleted_after=DAY, offsite_after=120 * DAY
    )
    programs = daily_points("programs", FIRST + timedelta(days=50), 15)
    for p in programs:
        rows += copies(p, offsite_after=30 * DAY)  # most off-site copies written later
    lost = point("programs", FIRST + timedelta(days=66), suffix="-lost")  # held nowhere
    rows += copies(lost, primary="lost", offsite="lost")
    audit = [point("audit", FIRST + timedelta(days=10))]
    rows += copies(audit[0], offsite_after=None)
    for p in _audit_history():  # kept 8 days, so mostly aggregated
        rows += copies(p, deleted_after=8 * DAY, primary="deleted", offsite="deleted")
    # config: no point at all in 2026; two in 2027, a year the calendar has no data for
    config = [point("config", date(2027, 1, 19)), point("config", date(2027, 1, 20))]
    for p in config:
        rows += copies(p)
    points = [*ledger, early, tie, bad, *oplogs, uncopied, lost_log, late, ahead]
    points += [*programs, lost]
    points += [*audit, *_audit_history(), *config]
    return points, rows


def _audit_history() -> list[PointRow]:
    """Audit's full backups around the holidays: working-day gaps across 1 January, the
    Spring Festival and a make-up Saturday, two dates backed up twice (1 January and 27
    February), two equal longest gaps (19 working days: 3 → 28 August, 28 August → 23
    September), a point recorded with a business date after the instant judged, a tie at the
    first finish, a bad point before it, and ciphers mixed: two kinds, in clear (None and
    ""), on a bad point and on one finished after every instant judged."""
    days = [date(2025, 12, 24), date(2025, 12, 31), date(2026, 1, 1), date(2026, 1, 2)]
    days += [date(2026, 1, 3)]
    days += [date(2026, 1, 5) + timedelta(days=i) for i in range(40)]  # to 13 February
    days += [date(2026, 2, 24), date(2026, 2, 27), date(2026, 3, 3)]
    days += [date(2026, 3, 13) + timedelta(days=i) for i in range(144)]  # to 3 August
    days += [date(2026, 8, 28), date(2026, 9, 23)]
    ciphers = ("aes-256-gcm", "sm4-gcm", None, "")
    history = [replace(point("audit", day), cipher=ciphers[i % 4]) for i, day in enumerate(days)]
    history += [
        point("audit", date(2025, 12, 24), suffix="-tie"),
        point("audit", date(2025, 12, 20), suffix="-bad", status="bad"),
        point("audit", date(2026, 1, 1), hour=21, suffix="-again"),
        point("audit", date(2026, 2, 27), hour=21, suffix="-again"),
        # recorded with a business date after its finish's (another cut-off hour then)
        replace(
            point("audit", date(2026, 9, 23), hour=21, suffix="-ahead"),
            business_date=date(2026, 9, 25),
        ),
        replace(point("audit", date(2026, 3, 5), suffix="-bad", status="bad"), cipher="sm4-gcm"),
        replace(point("audit", date(2027, 1, 20)), cipher="aes-256-gcm"),
    ]
    return history


def _insert(site: LoadedSite, points: list[PointRow], rows: list[CopyRow]) -> None:
    with open_runtime(site) as runtime, runtime.catalog.begin() as connection:
        connection.execute(
            insert(schema.recovery_points),
            [
                point_row(
                    p.id,
                    p.dataset,
                    p.finished_at,
                    status=p.status,
                    business_date=p.business_date.isoformat(),
                )
                | {"cipher": p.cipher}
                for p in points
            ],
        )
        connection.execute(
            insert(schema.copies),
            [
                {
                    "recovery_point_id": c.recovery_point_id,
                    "store": c.store,
                    "site": c.site,
                    "written_at": c.written_at,
                    "verified_at": c.verified_at,
                    "status": c.status,
                    "deleted_at": c.deleted_at,
                }
                for c in rows
            ],
        )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def catalog(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> tuple[LoadedSite, Catalog]:
    """The edge rows in the sandbox's SQLite catalog, then in a real PostgreSQL one: every
    aggregate's SQL runs on both."""
    base: Path = tmp_path_factory.mktemp("judged")
    config = prepare_sandbox(base / "sandbox")
    if request.param == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        document = yaml.safe_load(config.read_text(encoding="utf-8"))
        database = pg_create_database(server, f"judged_{uuid.uuid4().hex[:8]}")
        document["catalog_url"] = server.url(database)
        config.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    site = load_site(config)
    _insert(site, *_rows())
    return site, Catalog(site.config.catalog_url)


def _cutoff(site: LoadedSite) -> int:
    return site.config.model.calendar.business_date_cutoff_hour


def _instants() -> list[float]:
    points, rows = _rows()
    tie = next(p.finished_at for p in points if p.id.endswith("-tie"))
    lost = next(p.finished_at for p in points if p.id.endswith("-lost"))
    deleted = sorted(c.deleted_at for c in rows if c.deleted_at is not None)
    return [
        tie,  # the finish of two points
        lost + DAY,  # lost copies within the rotation period, their date kept nowhere
        deleted[len(deleted) // 2],  # a copy deleted exactly then is still held (deleted_at > at)
        min(
            c.written_at for c in rows if c.store == "offsite" and "programs" in c.recovery_point_id
        )
        + 1,
        datetime(2026, 9, 30, 12, tzinfo=UTC).timestamp(),
        datetime(2026, 12, 31, 12, tzinfo=UTC).timestamp(),
        datetime(2026, 1, 6, 4, tzinfo=UTC).timestamp(),  # one gap, across 1 January
        datetime(2026, 2, 25, 4, tzinfo=UTC).timestamp(),  # the first longest across 1 January
        datetime(2026, 3, 4, 4, tzinfo=UTC).timestamp(),  # longest this year, four over
        datetime(2026, 9, 24, 4, tzinfo=UTC).timestamp(),  # two equal longest
        datetime(2027, 1, 5, 4, tzinfo=UTC).timestamp(),  # no calendar data for 2027
        datetime(2027, 1, 20, 12, tzinfo=UTC).timestamp(),  # config's two 2027 dates, no gap open
        datetime(2026, 1, 3, 14, tzinfo=UTC).timestamp(),  # only 0-day gaps, 1 January twice
    ]


@pytest.mark.parametrize("index", range(13))
def test_every_verdict_equals_the_one_judged_from_every_row(
    catalog: tuple[LoadedSite, Catalog], index: int
) -> None:
    site, cat = catalog
    at = datetime.fromtimestamp(_instants()[index], UTC)
    model, pack, calendar = site.config.model, site.pack, site.calendar
    full = evaluate_all(model, pack, calendar, read_catalog(cat), at)
    with cat.begin() as connection:
        bounded_snapshot = judged_snapshot(
            connection, pack, at.timestamp(), calendar, _cutoff(site)
        )
    bounded = evaluate_all(model, pack, calendar, bounded_snapshot, at)
    assert [f.to_dict() for f in bounded] == [f.to_dict() for f in full]
    assert len(bounded_snapshot.copies) < len(read_catalog(cat).copies)
    assert all(c.written_at <= at.timestamp() for c in bounded_snapshot.copies)
    assert len(bounded_snapshot.points) < len(read_catalog(cat).points) / 2


def test_the_copy_aggregates_on_edge_rows(catalog: tuple[LoadedSite, Catalog]) -> None:
    site, cat = catalog
    at = datetime(2026, 6, 1, 12, tzinfo=UTC).timestamp()
    with cat.begin() as connection:
        history = read_history(connection, at, [184 * DAY, 7 * DAY])
    # ledger: 60 daily dates; the early point and the tie share a date with another point
    # (counted once); the bad point's own date does not count
    assert history.generations[(SYSTEM, "ledger", "primary")] == 60
    assert history.generations[(SYSTEM, "ledger", "offsite")] == 60
    # programs: off-site copies written 30 days after each point (from 21 May, 12:00 UTC):
    # 12 of 15 by `at`, the last one written at `at` itself; and the lost point's (lost
    # copies were written: their date counts in both stores)
    assert history.generations[(SYSTEM, "programs", "primary")] == 16
    assert history.generations[(SYSTEM, "programs", "offsite")] == 13
    assert (SYSTEM, "ledger", "primary") in history.deleted
    assert (SYSTEM, "programs", "primary") not in history.deleted
    assert (SYSTEM, "config", "primary") not in history.generations
    count, first = history.dropped[184 * DAY][(SYSTEM, "oplogs")]
    assert first == f"{FIRST:%Y%m%d}T200000Z-oplogs"
    assert count == 120 + 1 - sum(  # every point (and the tie) but those held at `at`
        1
        for p in daily_points("oplogs", FIRST, 120)
        if p.finished_at + 35 * DAY + 600 > at or p.finished_at > at
    )
    assert (SYSTEM, "oplogs") not in history.dropped[7 * DAY]  # none finished in the last week


def test_a_context_refuses_copies_bounded_for_another_instant(
    catalog: tuple[LoadedSite, Catalog],
) -> None:
    site, cat = catalog
    at = _instants()[1]
    with cat.begin() as connection:
        bounded = judged_snapshot(connection, site.pack, at, site.calendar, _cutoff(site))
    context = Context(
        site.config.model, site.pack, site.calendar, bounded, datetime.fromtimestamp(at + 1, UTC)
    )
    with pytest.raises(ValueError, match="bounded for"):
        context.generations_written(SYSTEM, "ledger", "primary")


def test_the_point_aggregates_on_edge_rows(catalog: tuple[LoadedSite, Catalog]) -> None:
    site, cat = catalog
    at = datetime(2026, 9, 24, 4, tzinfo=UTC).timestamp()  # business date 24 September
    today = date(2026, 9, 24)
    with cat.begin() as connection:
        history = read_point_history(
            connection, at, today, 1, working_day_numbers(site.calendar, today)
        )
    audit = history.datasets[(SYSTEM, "audit")]
    # 5 + 40 + 3 + 144 + 2 dated points, the tie, the second points of 1 January and 27
    # February, the one dated ahead and the one of 12 March: not the bad ones nor 2027's
    assert audit.count == 199
    assert (audit.last, audit.before, audit.first) == (
        date(2026, 9, 23),
        date(2025, 12, 31),
        date(2026, 1, 1),
    )
    assert audit.dates == 3 + 40 + 3 + 1 + 144 + 2  # with 12 March's, once each
    # the first of the two longest, then every gap over 1 working day, in date order (the
    # one from 31 December is Context's: its first date may lie in any earlier year)
    assert audit.gaps == (
        (date(2026, 1, 3), date(2026, 1, 5), 2),  # a make-up Sunday
        (date(2026, 2, 13), date(2026, 2, 24), 2),  # the Spring Festival, a make-up Saturday
        (date(2026, 2, 24), date(2026, 2, 27), 3),
        (date(2026, 2, 27), date(2026, 3, 3), 3),  # after the date backed up twice
        (date(2026, 3, 3), date(2026, 3, 12), 7),
        (date(2026, 8, 3), date(2026, 8, 28), 19),
        (date(2026, 8, 28), date(2026, 9, 23), 19),
    )
    # every point with a cipher, whatever its status or time: a quarter of 194 dated points
    # in each of two kinds (49 and 49), the bad one and the one of 2027
    assert history.encrypted == 49 + 49 + 2
    ledger = history.datasets[(SYSTEM, "ledger")]  # daily: the first of its many 1-day gaps
    assert (ledger.before, ledger.first, ledger.gaps) == (
        None,
        FIRST,
        ((date(2026, 3, 2), date(2026, 3, 3), 1),),
    )
    assert (SYSTEM, "config") not in history.datasets


def test_a_context_refuses_points_bounded_for_another_instant_or_limit(
    catalog: tuple[LoadedSite, Catalog],
) -> None:
    site, cat = catalog
    at = _instants()[1]
    with cat.begin() as connection:
        bounded = judged_snapshot(connection, site.pack, at, site.calendar, _cutoff(site))
        other_cutoff = judged_snapshot(connection, site.pack, at, site.calendar, 23)
    model, pack, calendar = site.config.model, site.pack, site.calendar
    moment = datetime.fromtimestamp(at, UTC)
    later = Context(model, pack, calendar, bounded, datetime.fromtimestamp(at + 1, UTC))
    with pytest.raises(ValueError, match="points are bounded for"):
        later.point_count(SYSTEM, "ledger")
    with pytest.raises(ValueError, match=r"business date 2026-\d\d-\d\d\), not for"):
        Context(model, pack, calendar, other_cutoff, moment).last_backup_date(SYSTEM, "ledger")
    same = Context(model, pack, calendar, bounded, moment)
    with pytest.raises(ValueError, match="gaps are chosen for 1, not 2"):
        same.backup_intervals(SYSTEM, "ledger", 2)


def test_a_dataset_without_points_and_an_uncounted_year_from_the_aggregates(
    catalog: tuple[LoadedSite, Catalog],
) -> None:
    """What Context answers from the aggregates where they hold nothing: no point is 0 (not
    one), a retention window not read is refused, and one date in a year the calendar cannot
    count has no gap to count (two would need the calendar)."""
    site, cat = catalog
    at = _instants()[1]
    with cat.begin() as connection:
        bounded = judged_snapshot(connection, site.pack, at, site.calendar, _cutoff(site))
    model, pack, calendar = site.config.model, site.pack, site.calendar
    context = Context(model, pack, calendar, bounded, datetime.fromtimestamp(at, UTC))
    assert context.point_count(SYSTEM, "config") == 0
    assert context.last_backup_date(SYSTEM, "config") is None
    assert context.backup_intervals(SYSTEM, "config", 1) == []
    with pytest.raises(ValueError, match="the snapshot holds no dropped points for 5 days"):
        context.dropped_within(SYSTEM, "ledger", 5)
    history = bounded.point_history
    assert history is not None
    lone = replace(history.datasets[(SYSTEM, "ledger")], before=None, dates=1, gaps=())
    uncounted = replace(history, counted=False, datasets={(SYSTEM, "ledger"): lone})
    snapshot = replace(bounded, point_history=uncounted)
    context = Context(model, pack, calendar, snapshot, datetime.fromtimestamp(at, UTC))
    assert context.backup_intervals(SYSTEM, "ledger", 1) == []
    two = replace(uncounted, datasets={(SYSTEM, "ledger"): replace(lone, dates=2)})
    context = Context(
        model, pack, calendar, replace(bounded, point_history=two), datetime.fromtimestamp(at, UTC)
    )
    with pytest.raises(CalendarDataMissing, match=str(context.business_date.year)):
        context.backup_intervals(SYSTEM, "ledger", 1)


def test_gaps_of_no_working_day_on_a_date_backed_up_twice(
    catalog: tuple[LoadedSite, Catalog],
) -> None:
    site, cat = catalog
    today = date(2026, 1, 3)  # 1 January twice, 2 and 3 January: holidays, no gap counts
    with cat.begin() as connection:
        history = read_point_history(
            connection,
            datetime(2026, 1, 3, 14, tzinfo=UTC).timestamp(),
            today,
            1,
            working_day_numbers(site.calendar, today),
        )
    audit = history.datasets[(SYSTEM, "audit")]
    assert (audit.before, audit.first, audit.dates) == (date(2025, 12, 31), date(2026, 1, 1), 3)
    assert audit.gaps == ((date(2026, 1, 1), date(2026, 1, 2), 0),)  # not 1 → 1 January
