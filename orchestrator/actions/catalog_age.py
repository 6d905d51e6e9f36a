"""Whether the catalog describes the whole history it is judged on: `drctl status` says so,
loudly, when it does not (a lost or replaced catalog must never read as "nothing to judge").

Cheap signs, read every time `status` runs and at every scrape of the exporter (each a
`sign` of dr_catalog_warning; catalog_signs is the one judge of both). A scrape reads the chain
index and the reports of the newest RECENT_PACKAGES check and drill packages, never the whole
chain's packages:

* **empty** — the catalog records no recovery point at all;
* **younger than its evidence** — the evidence chain (`<evidence_dir>/chain.jsonl`, local and
  append-only) holds a validity-check or drill package created before the catalog's first
  record: the check or drill happened, so the catalog held it once and has lost it since.
* **missing what its evidence records** — one of the chain's newest check or drill packages
  (RECENT_PACKAGES of them; `drctl report` reads them all) names a point found bad that has no
  recorded failure in the catalog or is no longer marked bad there, or carries a check or drill
  row the catalog lacks or holds with other values (status, counted, times, RTO/RPO): a catalog
  put back from an older copy (a database restore), or edited, would otherwise judge a point
  found corrupt as good or a failed check as passed.
* **closed by hand** — a failure the catalog holds closed that no re-check package closed
  (only `drctl verify --recheck` closes one); status judges only closures dated since the
  oldest of the packages it reads (_closing_span), the report every one.
* **dated after now** — a row's time (a point's finish, a copy written, a check, an item, a
  failure, a drill, a job) lies more than AHEAD_TOLERANCE_SECONDS past the wall clock of the
  reader: a node whose clock runs ahead wrote it, or it was forged. Every verdict is judged as
  of now and counts no such row, so a newer backup or check it claims is not believed; the
  warning says so instead of judging silently.

The stores themselves are not listed here (that is `drctl catalog rebuild`'s work, and at a
bank's scale far too slow for every `status`). The history signs name `drctl catalog rebuild`.
"""

from __future__ import annotations

import math
import time
from typing import Any

from sqlalchemy import Connection, func, select

from orchestrator.evidence.chain import ChainEntry, read_chain
from orchestrator.evidence.untrusted_read import parse_json, read_regular
from orchestrator.model import schema
from orchestrator.runtime import Runtime
from orchestrator.timefmt import epoch_seconds, iso_utc

REBUILD = (
    "rebuild it from the stores and the evidence with `drctl catalog rebuild` / "
    "请用 drctl catalog rebuild 从存储与证据重建目录"
)
_RECORDED_KINDS = ("verify", "drill")  # packages whose run has a catalog row
RECENT_PACKAGES = 20  # the newest check and drill packages whose record status looks for
REPORT = "report.json"


# dr_catalog_warning{sign}: every sign status prints, in the order it prints them
SIGNS = ("empty", "lacks_evidence", "younger_than_evidence", "dated_after_now", "closed_by_hand")
# A row may be dated this far past the reader's clock before it is called ahead: nodes sharing
# a catalog keep their clocks within it (NTP keeps them within milliseconds).
AHEAD_TOLERANCE_SECONDS = 60.0
_DATED = (  # each table's times that a writer takes from its clock
    (schema.recovery_points, ("started_at", "finished_at")),
    (schema.copies, ("written_at", "verified_at")),
    (schema.verifications, ("started_at", "finished_at")),
    (schema.verification_items, ("checked_at",)),
    (schema.integrity_failures, ("detected_at",)),
    (schema.drills, ("started_at", "finished_at")),
    (schema.jobs, ("started_at", "finished_at")),
)


def catalog_warnings(runtime: Runtime, recent: int | None = RECENT_PACKAGES) -> list[str]:
    """Return what makes the catalog an incomplete account of the site's history (empty when
    nothing does), comparing it with the newest `recent` check and drill packages of the chain
    (None: with every one, as `drctl report` does). An unreadable evidence chain is `evidence
    verify --chain`'s finding, not this one: it is left out here."""
    return [warning for warning in catalog_signs(runtime, recent).values() if warning]


def catalog_signs(runtime: Runtime, recent: int | None = RECENT_PACKAGES) -> dict[str, str | None]:
    """Return each sign of SIGNS with its warning, or None where the catalog does not show
    it: what `status` prints and the exporter's dr_catalog_warning reports (one judge), read
    as of the wall clock now. The chain is read once, and each package of the span judged
    (_closing_span: the newest `recent`, or every one) at most once."""
    url = runtime.catalog.safe_url
    signs: dict[str, str | None] = dict.fromkeys(SIGNS)
    signs["dated_after_now"] = dated_after(runtime, time.time())
    if not _holds_a_point(runtime):
        signs["empty"] = (
            f"the catalog ({url}) holds no recovery point: if it was lost or replaced, "
            f"{REBUILD} / 目录中没有任何恢复点"
        )
    recorded_kinds = _recorded_kind_entries(runtime)
    if not recorded_kinds:
        return signs  # no check or drill evidenced yet: nothing to compare the catalog with
    span, since = _closing_span(recorded_kinds, recent)
    reports = _reports(runtime, span)
    missing = _unrecorded_packages(runtime, reports, recorded_kinds[-recent:] if recent else span)
    if missing:
        signs["lacks_evidence"] = (
            f"the catalog ({url}) lacks what {len(missing)}{' recent' if recent else ''} "
            "evidence package(s) record "
            f"({', '.join(missing)}): it was put back from an older copy, lost rows or was "
            f"edited; its "
            f"verdicts may count a point found bad as good; {REBUILD} / "
            "目录缺少近期证据包所记录的检查或损坏标记"
        )
    signs["younger_than_evidence"] = _younger_than(runtime, recorded_kinds[0])
    closed = _closed_by_hand(runtime, [reports.get(entry.name) for entry in span], since)
    if closed:
        signs["closed_by_hand"] = (
            f"the catalog ({url}) holds the failures of {len(closed)} "
            f"point(s) closed that no re-check package of the evidence chain closed "
            f"({', '.join(closed)}): a bad mark is closed only by `drctl verify --recheck`; "
            "move the catalog aside and rebuild it with `drctl catalog rebuild` / "
            "目录中有未经复核（verify --recheck）关闭的损坏记录"
        )
    return signs


def _younger_than(runtime: Runtime, earliest: ChainEntry) -> str | None:
    """Return the warning that the catalog's history begins after the chain's first check or
    drill package was written (`earliest`), or None."""
    first_record = _first_record(runtime)
    written = _created(earliest)
    if first_record is not None and written >= first_record:
        return None
    since = "holds no record" if first_record is None else f"begins {iso_utc(first_record)}"
    return (
        f"the catalog ({runtime.catalog.safe_url}) is younger than its evidence: its history "
        f"{since}, but evidence package {earliest.name} was written {iso_utc(written)}; "
        f"{REBUILD} / 目录比证据链更新，目录历史不完整"
    )


def dated_after(runtime: Runtime, now: float) -> str | None:
    """Return the warning that the catalog holds rows dated after `now` (beyond
    AHEAD_TOLERANCE_SECONDS), naming the newest; None when it holds none."""
    newest: tuple[float, str] | None = None
    maxima = [
        select(func.max(table.c[column])).scalar_subquery().label(f"{table.name}.{column}")
        for table, columns in _DATED
        for column in columns
    ]
    with runtime.catalog.begin() as connection:  # one statement, one round trip
        row = connection.execute(select(*maxima)).one()
    for where, value in row._mapping.items():
        if value is not None and (newest is None or float(value) > newest[0]):
            newest = (float(value), str(where))
    if newest is None or newest[0] <= now + AHEAD_TOLERANCE_SECONDS:
        return None
    ahead, where = newest[0] - now, newest[1]
    return (
        f"the catalog ({runtime.catalog.safe_url}) holds rows dated after now "
        f"({iso_utc(now)}): the newest, {where} {iso_utc(newest[0])}, is {ahead:.0f} s ahead; "
        "a node whose clock runs ahead wrote it, or it was forged; every verdict is judged as "
        "of now and counts none of those rows: check the clocks (NTP) of the nodes that write "
        "to the catalog / 目录中有晚于当前时间的记录（时钟偏差或伪造），这些记录不计入判定"
    )


def _holds_a_point(runtime: Runtime) -> bool:
    """Return whether the catalog records any recovery point (one row read, not counted)."""
    with runtime.catalog.begin() as connection:
        first = connection.execute(select(schema.recovery_points.c.id).limit(1)).first()
    return first is not None


def _first_record(runtime: Runtime) -> float | None:
    """Return the time of the catalog's earliest record, if it has any."""
    tables = (schema.recovery_points, schema.verifications, schema.drills, schema.jobs)
    with runtime.catalog.begin() as connection:
        firsts = [connection.execute(select(func.min(t.c.started_at))).scalar() for t in tables]
    known = [float(value) for value in firsts if value is not None]
    return min(known) if known else None


def _recorded_kind_entries(runtime: Runtime) -> list[ChainEntry]:
    """Return the chain's check and drill entries, oldest first, read once per `status`
    (none when the chain cannot be read: that is `evidence verify --chain`'s finding)."""
    try:
        entries = read_chain(runtime.config.evidence_dir / "chain.jsonl")
    except (OSError, ValueError):
        return []
    return [entry for entry in entries if entry.kind in _RECORDED_KINDS]


def _reports(runtime: Runtime, entries: list[ChainEntry]) -> dict[str, dict[str, Any]]:
    """Return the report of each package given by its name, read once; a package that cannot
    be read, or whose report is not one drctl wrote, is left to `evidence verify`."""
    reports = {}
    for entry in entries:
        try:
            report = parse_json(read_regular(runtime.config.evidence_dir / entry.name / REPORT))
        except (OSError, ValueError):
            continue
        if isinstance(report, dict):
            reports[entry.name] = report
    return reports


def _unrecorded_packages(
    runtime: Runtime, reports: dict[str, dict[str, Any]], entries: list[ChainEntry]
) -> list[str]:
    """Return the names of the check and drill packages given whose record the catalog lacks
    (their `reports` read); a switchover's (a job, not a row) is not looked for."""
    missing = []
    with runtime.catalog.begin() as connection:
        for entry in entries:
            report = reports.get(entry.name)
            if report is None or report.get("switchover"):
                continue  # unreadable (evidence verify's finding), or a job's
            if not _recorded(connection, report):
                missing.append(entry.name)
    return missing


def _recorded(connection: Connection, report: dict[str, Any]) -> bool:
    """Return whether the catalog holds what a check or drill report records: a failure row
    for each point it found bad, and the check or drill row its `record` carries."""
    mismatches = report.get("mismatches")
    named: set[str] = set()
    if isinstance(mismatches, list) and mismatches:
        # Imported here: status stays light (it moves no data); most reports found nothing.
        from orchestrator.actions.verify_problems import evidence_marks_bad

        named = {  # what the check marked bad, not an intruder or an S3 version drift
            str(m.get("recovery_point")) for m in mismatches if evidence_marks_bad(m)
        }
    if named:
        failures = schema.integrity_failures.c
        found = connection.execute(
            select(failures.recovery_point_id).where(failures.recovery_point_id.in_(named))
        )
        if not named <= {row.recovery_point_id for row in found}:
            return False
        if _no_longer_bad(connection, named):
            return False  # nothing ever sets a bad point back (verification.md §8)
    record = report.get("record")
    record = record if isinstance(record, dict) else {}
    tables = {"verifications": schema.verifications, "drills": schema.drills}
    table = tables.get(str(record.get("table")))
    if table is None:  # nothing else a catalog keeps for it (verify --all, --recheck)
        return True
    row = connection.execute(select(table).where(table.c.id == record.get("id"))).first()
    if row is None or not holds_record(row._mapping, record):
        return False
    return table is not schema.verifications or holds_items(connection, record)


def holds_items(connection: Connection, record: dict[str, Any]) -> bool:
    """Return whether the catalog holds the checked items a check's record lists, each with
    its status (a failed item made `passed` would count its point as verified)."""
    items = record.get("items")
    if not isinstance(items, list):
        return True  # a record without its items: nothing to compare
    table = schema.verification_items.c
    query = select(table.recovery_point_id, table.store, table.status).where(
        table.verification_id == record.get("id")
    )
    held = sorted(tuple(row) for row in connection.execute(query))
    listed = sorted(
        (str(item.get("recovery_point_id")), str(item.get("store")), str(item.get("status")))
        for item in items
        if isinstance(item, dict)
    )
    return held == listed


def _no_longer_bad(connection: Connection, named: set[str]) -> bool:
    """Return whether a recorded point of `named` is not marked bad in the catalog."""
    points = schema.recovery_points.c
    found = connection.execute(
        select(points.id).where(points.id.in_(named), points.status != "bad")
    ).first()
    return found is not None


def holds_record(row: Any, record: dict[str, Any]) -> bool:
    """Return whether the catalog row holds every plain value the package's record gives
    for its columns (a failed check's status edited to `passed`, a drill's RTO made shorter,
    its times moved: the signed record is what happened)."""
    for key, value in record.items():
        if key not in row or isinstance(value, (dict, list)):
            continue
        held = row[key]
        if isinstance(value, float) and isinstance(held, (int, float)):
            if not math.isclose(held, value, rel_tol=1e-12, abs_tol=1e-6):
                return False
        elif held != value:
            return False
    return True


def _closing_span(
    entries: list[ChainEntry], recent: int | None
) -> tuple[list[ChainEntry], float | None]:
    """Return the packages a closure is looked for in, and the time from which closures are
    judged (None: all). The report reads every package. Status reads the newest `recent`
    ones, so it judges only the closures dated since the oldest of them was written: a
    re-check's package is written after the closure it commits (its `finished_at`), so the
    package of such a closure is one of them (or one written since, looked for as well); an
    older closure's may be anywhere in the chain, which status does not read."""
    if recent is None:
        return entries, None
    since = min(_created(entry) for entry in entries[-recent:])
    return [entry for entry in entries if _created(entry) >= since], since


def _created(entry: ChainEntry) -> float:
    return epoch_seconds(entry.created_at)


def _closed_by_hand(
    runtime: Runtime, reports: list[dict[str, Any] | None], since: float | None = None
) -> list[str]:
    """Return the points whose failure the catalog holds closed (`resolved_at` set, at or
    after `since` when given) although no re-check package of the `reports` given closed it
    (its `incidents`, as a rebuild reads them): an UPDATE of the catalog would otherwise make
    a bad mark disappear."""
    failures = schema.integrity_failures.c
    query = select(failures.recovery_point_id, failures.system, failures.dataset).where(
        failures.resolved_at.is_not(None)
    )
    if since is not None:
        query = query.where(failures.resolved_at >= since)
    with runtime.catalog.begin() as connection:
        rows = connection.execute(query).all()
    if not rows:
        return []  # nothing closed
    closed: set[str] = set()
    datasets: set[tuple[str, str]] = set()  # reports before incidents named their bad points
    for report in reports:
        incidents = report.get("incidents") if report is not None else None
        for incident in incidents if isinstance(incidents, list) else []:
            if not isinstance(incident, dict) or incident.get("resolved") is not True:
                continue
            points = incident.get("bad_points")
            if isinstance(points, list):
                closed.update(str(point) for point in points)
            else:
                datasets.add((str(incident.get("system")), str(incident.get("dataset"))))
    return sorted(
        {
            row.recovery_point_id
            for row in rows
            if row.recovery_point_id not in closed and (row.system, row.dataset) not in datasets
        }
    )
