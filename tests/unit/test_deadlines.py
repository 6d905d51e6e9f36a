"""The deadlines the rules judge by: `status` turns 不符合 at exactly the instant exported as
dr_*_next_due_timestamp_seconds (one second before it does not), so alerts on them agree.

The sandbox config's business-date cut-off is 06:00: a full backup's deadline is 06:00 local on
the first late business date; validity checks and drills count local calendar days, so theirs
is local midnight. Without calendar data a day counts as a working day (never later).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from orchestrator.rules.deadlines import (
    backup_deadline,
    calendar_data_end,
    drill_deadline,
    verification_deadline,
)
from orchestrator.rules.evaluate import evaluate_all
from orchestrator.rules.finding import Context
from orchestrator.rules.status import Status
from orchestrator.rules.timezone import SHANGHAI
from orchestrator.rules.workday_overrides import parse_overrides
from orchestrator.rules.workdays import WorkdayCalendar, package_years
from tests.fixtures.catalog_rows import (
    CALENDAR,
    PACK,
    check,
    drill,
    model,
    one,
    point,
    snapshot,
)
from tests.fixtures.catalog_rows import local as local_time

LEDGER = "core-banking/ledger"
YEAR_2027 = {
    "years": {
        2027: {
            "source": "test data",
            "holidays": ["2027-01-01", "2027-02-08", "2027-02-09", "2027-02-10"],
            "workdays": ["2027-02-07"],
        }
    }
}


def at(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, UTC)


def context(snap: object, moment: float, calendar: WorkdayCalendar = CALENDAR) -> Context:
    return Context(model(), PACK, calendar, snap, at(moment))  # type: ignore[arg-type]


def shanghai(*args: int) -> float:
    return datetime(*args, tzinfo=SHANGHAI).timestamp()  # type: ignore[misc]


@pytest.mark.parametrize(
    ("last", "first_late"),
    [
        (date(2024, 3, 5), date(2024, 3, 7)),  # Tuesday: late on Thursday
        (date(2024, 3, 8), date(2024, 3, 12)),  # Friday: the weekend does not count
        (date(2024, 2, 9), date(2024, 2, 19)),  # Spring Festival; Sunday 18th is a make-up day
    ],
)
def test_backup_is_non_compliant_from_the_exported_second(last: date, first_late: date) -> None:
    snap = snapshot([point("ledger", last)])
    deadline = backup_deadline(context(snap, shanghai(2024, 3, 20)), "core-banking", "ledger")
    assert deadline is not None
    assert deadline.due_at == shanghai(first_late.year, first_late.month, first_late.day, 6)
    before = one("backup.full_interval", snap, at(deadline.due_at - 1), LEDGER)
    after = one("backup.full_interval", snap, at(deadline.due_at), LEDGER)
    assert before.status is Status.COMPLIANT
    assert after.status is Status.NON_COMPLIANT


def test_backup_never_made_is_due_from_the_start_of_the_history() -> None:
    snap = snapshot([point("config", date(2024, 3, 5))])
    deadline = backup_deadline(context(snap, shanghai(2024, 3, 20)), "core-banking", "ledger")
    assert deadline is not None and deadline.due_at == shanghai(2024, 3, 7, 6)
    assert one("backup.full_interval", snap, at(deadline.due_at - 1), LEDGER).status is (
        Status.UNKNOWN
    )
    assert one("backup.full_interval", snap, at(deadline.due_at), LEDGER).status is (
        Status.NON_COMPLIANT
    )
    assert backup_deadline(context(snapshot(), shanghai(2024, 3, 20)), "core-banking", "x") is None


def test_without_calendar_data_status_is_unknown_but_the_deadline_still_comes() -> None:
    if 2027 in package_years():
        pytest.skip("the installed chinesecalendar already has 2027")
    snap = snapshot([point("ledger", date(2026, 12, 31))])
    moment = shanghai(2027, 1, 6, 12)
    finding = one("backup.full_interval", snap, at(moment), LEDGER)
    assert finding.status is Status.UNKNOWN
    assert "no working-day calendar data for 2027" in finding.reason
    deadline = backup_deadline(context(snap, moment), "core-banking", "ledger")
    assert deadline is not None
    assert deadline.due_at == shanghai(2027, 1, 2, 6)  # 1 and 2 January count as working days
    assert deadline.due_at < moment  # the overdue alert fires while status cannot judge
    calendar = WorkdayCalendar(parse_overrides(YEAR_2027, "test.yml", package_years()))
    with_data = backup_deadline(context(snap, moment, calendar), "core-banking", "ledger")
    assert with_data is not None
    assert with_data.due_at == shanghai(2027, 1, 5, 6)  # holiday, weekend, then Mon, Tue
    judged = evaluate_all(model(), PACK, calendar, snap, at(moment))
    with_file = next(f for f in judged if f.rule == "backup.full_interval" and f.subject == LEDGER)
    assert with_file.status is Status.NON_COMPLIANT  # with a 2027 file, status judges


def test_calendar_data_end_is_the_first_year_without_data() -> None:
    if 2027 in package_years():
        pytest.skip("the installed chinesecalendar already has 2027")
    assert calendar_data_end(CALENDAR, shanghai(2026, 11, 29)) == shanghai(2027, 1, 1)
    assert calendar_data_end(CALENDAR, shanghai(2027, 3, 1)) == shanghai(2027, 1, 1)
    calendar = WorkdayCalendar(parse_overrides(YEAR_2027, "test.yml", package_years()))
    assert calendar_data_end(calendar, shanghai(2026, 11, 29)) == shanghai(2028, 1, 1)


def test_verification_turns_partial_and_non_compliant_at_the_exported_seconds() -> None:
    snap = snapshot([point("ledger", date(2024, 1, 2))], verifications=[check(date(2024, 2, 1))])
    deadline = verification_deadline(context(snap, shanghai(2024, 3, 20)), "core-banking")
    assert deadline is not None and deadline.warn_at is not None
    assert deadline.warn_at == shanghai(2024, 2, 26)  # day 25
    assert deadline.due_at == shanghai(2024, 3, 3)  # day 31: more than 30 days
    statuses = [
        one("verify.interval", snap, at(moment), "core-banking").status
        for moment in (
            deadline.warn_at - 1,
            deadline.warn_at,
            deadline.due_at - 1,
            deadline.due_at,
        )
    ]
    assert statuses == [Status.COMPLIANT, Status.PARTIAL, Status.PARTIAL, Status.NON_COMPLIANT]


def test_drill_turns_non_compliant_at_the_exported_second() -> None:
    history = [point("ledger", date(2024, 1, 2))]
    snap = snapshot(history, drills=[drill(date(2024, 3, 1))])
    deadline = drill_deadline(context(snap, shanghai(2025, 3, 20)))
    assert deadline is not None
    assert deadline.due_at == shanghai(2025, 3, 2)  # 366 days after 2024-03-01 (leap year)
    before = one("drill.yearly", snap, at(deadline.due_at - 1), "all")
    assert before.status is Status.PARTIAL  # no drill in 2025 yet, but within 365 days
    assert one("drill.yearly", snap, at(deadline.due_at), "all").status is Status.NON_COMPLIANT
    assert drill_deadline(context(snapshot(), shanghai(2025, 3, 20))) is None


def test_a_new_success_moves_the_deadline() -> None:
    snap = snapshot([point("ledger", date(2024, 3, 5)), point("ledger", date(2024, 3, 6))])
    moment = local_time(date(2024, 3, 6), 21).timestamp()
    deadline = backup_deadline(context(snap, moment), "core-banking", "ledger")
    assert deadline is not None and deadline.due_at == shanghai(2024, 3, 8, 6)
