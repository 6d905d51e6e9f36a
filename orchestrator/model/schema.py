"""Every table of the catalog, in one `metadata`: recovery points, copies, jobs (with their
leases), checks, bad points, S3 object versions, drills, scratch areas, switchover plans, the
network outage ledger, the report's issue register, replication probes, restore timings and
the key wraps a key rotation or a copy wrote beside a point.

The tables' history is the Alembic migrations in `model/migrations/`; this module is the
schema as the code reads and writes it now. Times are UTC epoch seconds (the ledger's are
integer epoch milliseconds, so availability arithmetic is exact).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

metadata = MetaData()
# Byte counts: 64 bits on PostgreSQL (its INTEGER is 32: a 2 GiB backup would not fit); SQLite's
# INTEGER is 64 bits already (migration 0007).
BYTES = BigInteger().with_variant(Integer(), "sqlite")

recovery_points = Table(
    "recovery_points",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("system", String(64), nullable=False, index=True),
    Column("dataset", String(64), nullable=False, index=True),
    Column("engine", String(32), nullable=False),
    Column("business_date", String(10), nullable=False),
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float, nullable=False),
    Column("source_site", String(64), nullable=False),
    Column("source_host", String(255), nullable=False),
    Column("hash_algorithm", String(16), nullable=False),
    Column("manifest_sha256", String(64), nullable=False),
    Column("total_bytes", BYTES, nullable=False),
    Column("file_count", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # complete | bad
    Column("last_verified_at", Float),
    Column("cipher", String(32)),  # aes-256-gcm | sm4-gcm; NULL: written in clear
)

copies = Table(
    "copies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("recovery_point_id", String(64), nullable=False, index=True),
    Column("store", String(64), nullable=False),
    Column("site", String(64), nullable=False),
    Column("written_at", Float, nullable=False),
    Column("verified_at", Float),
    Column("retain_until", Float),
    Column("status", String(16), nullable=False),  # present | deleted | bad
    Column("deleted_at", Float),
    Column("delete_reason", String(500)),
    Column("approver", String(255)),
    UniqueConstraint("recovery_point_id", "store", name="uq_copy_point_store"),
)
# Newest (verified) copy per dataset and store, rotation coverage, copies held at an instant
# (model/aggregates.py, model/judged_snapshot.py): covered by one index (migration 0006).
Index(
    "ix_copies_point_status_store",
    copies.c.recovery_point_id,
    copies.c.status,
    copies.c.store,
    copies.c.verified_at,
    copies.c.written_at,
    copies.c.deleted_at,
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("state", String(16), nullable=False),  # running | succeeded | failed | aborted
    Column("lock_key", String(300), unique=True),  # set only while running: the lease
    Column("owner", String(255), nullable=False),
    # the lease (model/lease.py): who holds it, renewed until lease_expires_at
    Column("holder_user", String(64)),
    Column("holder_host", String(255)),
    Column("holder_pid", Integer),
    Column("holder_start", Integer),
    Column("lease_expires_at", Float),
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float),
    Column("error", String(2000)),
    Column("detail", JSON),
)

verifications = Table(
    "verifications",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),  # sample | all | drill
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float),
    Column("status", String(16), nullable=False),  # running | passed | failed | aborted
    Column("counted", Boolean, nullable=False, default=False),
    Column("seed", String(128)),
    Column("population_points", Integer),
    Column("population_bytes", BYTES),
    Column("sample_points", Integer),
    Column("sample_bytes", BYTES),
    Column("evidence_path", String(1000)),
    Column("evidence_manifest_sha256", String(64)),
    Column("detail", JSON),
)

verification_items = Table(
    "verification_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("verification_id", String(64), nullable=False, index=True),
    Column("recovery_point_id", String(64), nullable=False, index=True),
    Column("store", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # passed | failed
    Column("checked_at", Float, nullable=False),
    Column("detail", JSON),
)

# A digest, fingerprint or invariant mismatch found in a recovery point (docs/verification.md
# "Bad points"). Rows are never deleted: the point stays bad for good; `resolved_*` is set when
# a newer good point of the dataset passed `drctl verify --recheck` (requirements.md A5).
integrity_failures = Table(
    "integrity_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("recovery_point_id", String(64), nullable=False, index=True),
    Column("system", String(64), nullable=False),
    Column("dataset", String(64), nullable=False),
    Column("store", String(64), nullable=False),
    Column("file", String(1000), nullable=False),  # path under data/, manifest.json, (table) t
    Column("kind", String(32), nullable=False),
    Column("expected", String(2000), nullable=False),
    Column("actual", String(2000), nullable=False),
    Column("detected_at", Float, nullable=False),
    Column("detected_by", String(200), nullable=False),  # e.g. verify-all:<id>, restore:<purpose>
    Column("evidence_path", String(1000)),
    Column("evidence_manifest_sha256", String(64)),
    Column("resolved_at", Float),
    Column("resolved_by", String(200)),
)

# The S3 object version drctl wrote for each key of a recovery point in each store: verify and
# restore read that version, whatever was put or deleted over the key later (docs/stores.md).
object_versions = Table(
    "object_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("recovery_point_id", String(64), nullable=False, index=True),
    Column("store", String(64), nullable=False),
    Column("key", String(1000), nullable=False),
    Column("version_id", String(1024), nullable=False),
    Column("recorded_at", Float, nullable=False),
    UniqueConstraint("store", "key", name="uq_object_version_store_key"),
)

drills = Table(
    "drills",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("scenario", String(128), nullable=False),
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float),
    Column("status", String(16), nullable=False),  # running | passed | failed | aborted
    Column("rto_seconds", Float),
    Column("rpo_seconds", Float),
    Column("failover_ok", Boolean),
    Column("failback_ok", Boolean),
    Column("evidence_path", String(1000)),
    Column("evidence_manifest_sha256", String(64)),
    Column("detail", JSON),
)

# Scratch areas: places that hold customer data or partial writes only while a job runs (a
# dump in a host's spool, a restore in the enclave, a scratch database, a recovery point being
# written to a store). Journalled before the first byte, deleted once cleaned; a row whose
# holder died is cleaned by the next run (actions/scratch.py) and the cleaning recorded as a job.
scratch_areas = Table(
    "scratch_areas",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # host_path | database | store_prefix | drill
    Column("place", String(255), nullable=False),  # inventory host or store name
    Column("location", String(1000), nullable=False),  # path, database name or key prefix
    Column("detail", JSON),  # what cleaning needs (the engine item of a database)
    Column("job", String(300), nullable=False),  # kind:subject of the job that made it
    Column("holder_user", String(64), nullable=False),
    Column("holder_host", String(255), nullable=False),
    Column("holder_pid", Integer, nullable=False),
    Column("holder_start", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
)

# Planned switchovers that went through the 第十条 notice check (`drctl plan switchover
# --record`); a switchover scenario runs only inside the window of a passing one.
switchover_plans = Table(
    "switchover_plans",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("system", String(64), nullable=False, index=True),
    Column("start_date", String(10), nullable=False),
    Column("end_date", String(10), nullable=False),
    Column("notice_date", String(10), nullable=False),
    Column("convention", String(16), nullable=False),
    Column("emergency_channel", String(500)),
    Column("status", String(16), nullable=False),  # the switchover.notice verdict
    Column("recorded_at", Float, nullable=False),
    Column("recorded_by", String(255), nullable=False),
    Column("verdict", JSON),
)

network_outages = Table(
    "network_outages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("target", String(64), nullable=False, index=True),
    Column("start_ms", BigInteger, nullable=False),  # first failure of the streak
    Column("end_ms", BigInteger),  # first success; NULL while open
    Column("declared_ms", BigInteger, nullable=False),  # when the vote declared the fault
    Column("closed_by", String(16)),  # probe | stop | restart
    Column("vantages", JSON, nullable=False),  # vantages that all saw it fail
    Column("merged", Integer, nullable=False, default=0),  # short recoveries merged into it
)

network_observations = Table(
    "network_observations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("target", String(64), nullable=False, index=True),
    Column("start_ms", BigInteger, nullable=False),  # first probe round of the stretch
    Column("last_ms", BigInteger, nullable=False),  # latest probe round
    Column("end_ms", BigInteger),  # NULL while the stretch goes on
    Column("closed_by", String(16)),  # stop | restart | gap | no_data
)

network_probe_counters = Table(
    "network_probe_counters",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("target", String(64), nullable=False),
    Column("vantage", String(64), nullable=False),
    Column("probes_total", BigInteger, nullable=False, default=0),
    Column("failures_total", BigInteger, nullable=False, default=0),
    UniqueConstraint("target", "vantage", name="uq_probe_counter"),
)

# The issue register (问题清单) of the compliance report (model/issue_register.py).
issue_register = Table(
    "issue_register",
    metadata,
    Column("id", String(64), primary_key=True),  # 问题编号, e.g. ISSUE-2026-001
    Column("description", String(2000), nullable=False),
    Column("status", String(32), nullable=False),  # IssueStatus value
    Column("owner", String(255), nullable=False),
    Column("due_date", String(10)),  # required while 限期整改
    Column("requirement", String(64)),  # a requirement (R24) or rule id it concerns
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("updated_by", String(255), nullable=False),
)

# Replication probes of the mirroring SLI (第十一条 「相互镜像」; model/replication.py).
replication_probes = Table(
    "replication_probes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("system", String(64), nullable=False, index=True),
    Column("link", String(64), nullable=False, index=True),
    Column("engine", String(16), nullable=False),
    Column("from_site", String(64), nullable=False),
    Column("to_site", String(64), nullable=False),
    Column("probed_at", Float, nullable=False, index=True),
    Column("state", String(16), nullable=False),  # one of STATES
    Column("lag_seconds", Float),  # NULL when the server cannot say
    Column("lag_bytes", BYTES),
    Column("io_running", Boolean),
    Column("sql_running", Boolean),
    Column("error", String(2000)),
    Column("detail", JSON),
)

# Every timed restore, per dataset, beside its objective (R140; model/restore_times.py).
restore_timings = Table(
    "restore_timings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("system", String(64), nullable=False, index=True),
    Column("dataset", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # one of KINDS
    Column("source", String(200), nullable=False),  # verify <id> | drill <id>
    Column("recovery_point_id", String(64)),
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float, nullable=False),
    Column("duration_seconds", Float, nullable=False),
    Column("objective_seconds", Float),  # NULL: the system declared none
    Column("status", String(16), nullable=False),  # passed | failed (the restore's own check)
)

# Each data-key wrap drctl wrote beside a point's manifest in a store (`keys/<kek_id>.json`: a
# key rotation, or a copy carrying one off-site): once recorded, a wrap absent from that store is
# a missing file of the point (a failed check, exit 1), never "key unavailable" (docs/keys.md).
key_wraps = Table(
    "key_wraps",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("recovery_point_id", String(64), nullable=False, index=True),
    Column("store", String(64), nullable=False),
    Column("kek_id", String(64), nullable=False),
    Column("recorded_at", Float, nullable=False),
    UniqueConstraint("recovery_point_id", "store", "kek_id", name="uq_key_wrap_point_store_kek"),
)
