"""Never hide a failed check, never trust an unproven recovery point — on real services.

sshd hosts, PostgreSQL, SeaweedFS S3 with Object Lock (two sites), the dr.yml of
docs/operators.md (tests/fixtures/real_site.py). Faults are made the way they happen: a
restore host that changes a row, someone with write access to a bucket planting a point or
putting a new version / delete marker over a locked key, a store that is down.
"""

from __future__ import annotations

import json
import secrets
import stat
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from orchestrator.actions.restore import run_restore
from orchestrator.cli import main
from orchestrator.model import catalog as cat
from orchestrator.model import integrity
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site
from tests.fixtures.catalog_scrape import scrape
from tests.fixtures.databases import PostgresServer, psql
from tests.fixtures.hosts import SshHost
from tests.fixtures.real_site import (
    build_config,
    new_database_name,
    pg_create_owned_database,
)
from tests.fixtures.s3 import S3Server, s3_client
from tests.integration.test_real_site import (  # noqa: F401 - fixtures used by name
    db_password,
    passwords,
    pg_sites,
    s3_stores,
    seed_pg_ledger,
    site_beds,
)

SYSTEM = "core-banking"
LEDGER = (("dataset", "ledger"), ("system", SYSTEM))


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    capsys.readouterr()
    code = main(["--json", *args])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else None


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def ledger_site(
    tmp_path: Path,
    hosts: tuple[SshHost, SshHost],
    pg_sites: tuple[PostgresServer, PostgresServer],  # noqa: F811
    stores: dict[str, dict[str, object]],
    verification_vars: dict[str, str] | None = None,
) -> tuple[Path, str]:
    """A seeded PostgreSQL ledger at production and the documented config around it."""
    source, _ = pg_sites
    database = pg_create_owned_database(source, new_database_name("corebank"))
    seed_pg_ledger(source, database)
    beds = site_beds(*hosts, pg=pg_sites)
    if verification_vars:
        beds["verification"] = replace(beds["verification"], host_vars=verification_vars)
    config_path = build_config(
        tmp_path, beds, stores=stores, databases={"ledger": database}, datasets=("ledger",)
    )
    return config_path, database


def points(config_path: Path) -> list[Any]:
    with (
        open_runtime(load_site(config_path)) as runtime,
        runtime.catalog.begin() as connection,
    ):
        return list(cat.list_recovery_points(connection))


def rotation(status: dict[str, Any]) -> dict[str, Any]:
    return next(
        f
        for f in status["findings"]
        if f["rule"] == "backup.rotation" and f["subject"] == f"{SYSTEM}/ledger"
    )


def faulty_pg_restore(root: Path, server: PostgresServer) -> tuple[Path, Path]:
    """A bin_dir for the enclave host whose pg_restore, while `switch` exists, changes one byte
    of one restored row (`holder 1` → `Holder 1`) after the real pg_restore loaded it — a
    restore host that alters data. Return (bin_dir, switch)."""
    bin_dir = root / "enclave-bin"
    bin_dir.mkdir()
    switch = root / "enclave-fault-on"
    for tool in ("psql", "pg_dump"):
        (bin_dir / tool).symlink_to(server.bin_dir / tool)
    script = bin_dir / "pg_restore"
    script.write_text(
        f"""#!/bin/sh
set -e
"{server.bin_dir}/pg_restore" "$@"
[ -e "{switch}" ] || exit 0
while [ $# -gt 0 ]; do
  case "$1" in
    -d) db=$2; shift;; -h) host=$2; shift;; -p) port=$2; shift;; -U) user=$2; shift;;
  esac
  shift
done
"{server.bin_dir}/psql" -X -q -h "$host" -p "$port" -U "$user" -d "$db" \\
  -c "UPDATE accounts SET holder = 'Holder 1' WHERE id = 1"
""",
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return bin_dir, switch


def test_enclave_fault_in_a_restored_row_is_a_failed_check_for_good(
    tmp_path: Path,
    sshd_host: SshHost,
    sshd_host_b: SshHost,
    pg_sites: tuple[PostgresServer, PostgresServer],  # noqa: F811
    passwords: str,  # noqa: F811
    s3_stores: dict[str, dict[str, object]],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    bin_dir, switch = faulty_pg_restore(tmp_path, pg_sites[1])
    config_path, _ = ledger_site(
        tmp_path,
        (sshd_host, sshd_host_b),
        pg_sites,
        s3_stores,
        verification_vars={"dr_postgresql_bin_dir": str(bin_dir)},
    )
    config = str(config_path)
    assert main(["-c", config, "backup"]) == 0
    assert main(["-c", config, "copy-offsite"]) == 0
    (first,) = points(config_path)

    switch.touch()
    code, check = run_json(capsys, "-c", config, "verify")  # the window's own random sample
    assert code == 1, check  # a data mismatch is a failed check, never exit 3
    (mismatch,) = check["mismatches"]
    assert mismatch["recovery_point"] == first.id
    assert (mismatch["file"], mismatch["kind"]) == ("(table) accounts", "fingerprint")
    expected_digest, actual_digest = mismatch["expected"].split()[0], mismatch["actual"].split()[0]
    assert len(expected_digest) == len(actual_digest) == 64 and expected_digest != actual_digest
    assert check["counted"] is True  # a completed check that fails still counts (A5)
    # The evidence package names the point, the table and both digests.
    evidence = Path(check["evidence"])
    report = json.loads((evidence / "report.json").read_text())
    assert report["outcome"] == "failed"
    assert report["mismatches"] == [mismatch]
    assert main(["-c", config, "evidence", "verify", str(evidence)]) == 0
    (bad,) = points(config_path)
    assert bad.status == "bad"

    # status and /metrics: non-compliant, counted bad, the alert's input is 1.
    code, status = run_json(capsys, "-c", config, "status")
    assert code == 1
    assert rotation(status)["status"] == "non_compliant"
    ledger = status["datasets"][0]
    assert ledger["bad_recovery_points"] == [first.id] and ledger["last_backup_id"] is None
    metrics = scrape(config_path)
    assert metrics[("dr_recovery_points_bad", LEDGER)] == 1.0
    assert ("dr_backup_last_success_timestamp_seconds", LEDGER) not in metrics

    # The fault is gone: a clean re-run does not wipe the bad mark (the point is not drawn).
    switch.unlink()
    code, _out, err = run(capsys, "-c", config, "verify", "--seed", "1")
    assert code == 1 and "nothing to check" in err
    assert points(config_path)[0].status == "bad"

    # A newer good point passes its own check, but the incident stays open until a re-check.
    assert main(["-c", config, "backup"]) == 0
    assert main(["-c", config, "copy-offsite"]) == 0
    code, check = run_json(capsys, "-c", config, "verify", "--seed", "2")
    assert code == 0, check["mismatches"]
    code, status = run_json(capsys, "-c", config, "status")
    assert rotation(status)["status"] == "non_compliant"
    code, scan = run_json(capsys, "-c", config, "verify", "--all")
    assert code == 1
    assert [f["recovery_point"] for f in scan["open_failures"]] == [first.id]

    code, recheck = run_json(capsys, "-c", config, "verify", "--recheck")
    assert code == 0, recheck
    (incident,) = recheck["incidents"]
    assert incident["resolved"] and incident["bad_points"] == [first.id]
    assert {c["store"] for c in incident["copies"]} == {"primary", "offsite"}
    code, status = run_json(capsys, "-c", config, "status")
    assert rotation(status)["status"] != "non_compliant"
    assert status["datasets"][0]["bad_recovery_points"] == []
    assert scrape(config_path)[("dr_recovery_points_bad", LEDGER)] == 0.0
    code, scan = run_json(capsys, "-c", config, "verify", "--all")
    assert code == 0, scan
    assert points(config_path)[0].status == "bad"  # bad for good: never counted, never restored


def object_keys(client: Any, bucket: str, prefix: str) -> list[str]:
    listing = client.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def plant_copy(
    client: Any, bucket: str, source_prefix: str, planted_prefix: str, real_id: str, planted_id: str
) -> None:
    """Copy a real point to a later id as someone with write access would: same data, a
    manifest naming the new id (consistent digests and fingerprint), the real signature."""
    for key in object_keys(client, bucket, source_prefix):
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        if key.endswith("/manifest.json"):
            body = body.replace(real_id.encode(), planted_id.encode())
        client.put_object(Bucket=bucket, Key=planted_prefix + key[len(source_prefix) :], Body=body)


def test_a_planted_point_is_an_intruder_never_restored_or_copied(
    tmp_path: Path,
    sshd_host: SshHost,
    sshd_host_b: SshHost,
    pg_sites: tuple[PostgresServer, PostgresServer],  # noqa: F811
    passwords: str,  # noqa: F811
    s3_stores: dict[str, dict[str, object]],  # noqa: F811
    s3_site_a: S3Server,
    s3_site_b: S3Server,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config_path, database = ledger_site(tmp_path, (sshd_host, sshd_host_b), pg_sites, s3_stores)
    config = str(config_path)
    assert main(["-c", config, "backup"]) == 0
    assert main(["-c", config, "copy-offsite"]) == 0
    (real,) = points(config_path)
    planted = f"20991231T235959Z-{secrets.token_hex(3)}"
    for name, server in (("primary", s3_site_a), ("offsite", s3_site_b)):
        bucket = str(s3_stores[name]["url"]).removeprefix("s3://").split("/")[0]
        base = f"core-banking/{SYSTEM}/ledger"
        plant_copy(
            s3_client(server), bucket, f"{base}/{real.id}/", f"{base}/{planted}/", real.id, planted
        )

    code, scan = run_json(capsys, "-c", config, "verify", "--all")
    assert code == 1
    intruders = [p for p in scan["problems"] if p["kind"] == "intruder"]
    assert {(p["store"], p["recovery_point"]) for p in intruders} == {
        ("primary", f"{SYSTEM}/ledger/{planted}"),
        ("offsite", f"{SYSTEM}/ledger/{planted}"),
    }
    assert all(p["kind"] == "intruder" for p in scan["problems"]), scan["problems"]
    assert points(config_path)[0].status == "complete"  # the real point is not harmed

    # Failover picks the newest *authenticated* point, never the planted one.
    with open_runtime(load_site(config_path)) as runtime:
        outcome = run_restore(runtime, SYSTEM, store_name="offsite", site_name="disaster-recovery")
    (restored,) = outcome.datasets
    assert restored.recovery_point_id == real.id and restored.ok
    assert [p.recovery_point_id for p in restored.passed_over] == [planted]
    assert restored.passed_over[0].reason.startswith("intruder")
    assert psql(pg_sites[1], "SELECT count(*) FROM postings;", database).strip() == "400"

    # copy-offsite refuses to carry it (exit 1, named) and copies nothing of it.
    code, _out, err = run(capsys, "-c", config, "copy-offsite")
    assert code == 1 and planted in err and "intruder" in err


def test_s3_versions_over_locked_keys_are_reported_every_scan_and_the_original_restored(
    tmp_path: Path,
    sshd_host: SshHost,
    sshd_host_b: SshHost,
    pg_sites: tuple[PostgresServer, PostgresServer],  # noqa: F811
    passwords: str,  # noqa: F811
    s3_stores: dict[str, dict[str, object]],  # noqa: F811
    s3_site_a: S3Server,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config_path, database = ledger_site(tmp_path, (sshd_host, sshd_host_b), pg_sites, s3_stores)
    config = str(config_path)
    assert main(["-c", config, "backup"]) == 0
    (point,) = points(config_path)
    client = s3_client(s3_site_a)
    bucket = str(s3_stores["primary"]["url"]).removeprefix("s3://").split("/")[0]
    prefix = f"core-banking/{SYSTEM}/ledger/{point.id}/"
    dump = next(k for k in object_keys(client, bucket, prefix) if k.endswith(".pgdump"))
    client.put_object(Bucket=bucket, Key=dump, Body=b"not the dump drctl wrote")
    client.delete_object(Bucket=bucket, Key=prefix + "manifest.json")  # a delete marker

    for _scan in range(2):
        code, scan = run_json(capsys, "-c", config, "verify", "--all")
        assert code == 1
        kinds = {(p["file"], p["kind"]) for p in scan["problems"]}
        assert kinds == {
            (dump.removeprefix(prefix), "overwritten"),
            ("manifest.json", "delete-marker"),
        }, scan["problems"]
    assert points(config_path)[0].status == "complete"  # the locked original is intact

    with open_runtime(load_site(config_path)) as runtime:
        outcome = run_restore(runtime, SYSTEM, store_name="primary", site_name="disaster-recovery")
    (restored,) = outcome.datasets
    assert restored.recovery_point_id == point.id and restored.ok
    assert restored.passed_over == ()
    assert any("overwritten" in note for note in restored.notes)
    assert any("delete-marker" in note for note in restored.notes)
    assert psql(pg_sites[1], "SELECT count(*) FROM postings;", database).strip() == "400"


def test_verify_all_scans_the_surviving_store_and_names_the_lost_one(
    tmp_path: Path,
    sshd_host: SshHost,
    sshd_host_b: SshHost,
    pg_sites: tuple[PostgresServer, PostgresServer],  # noqa: F811
    passwords: str,  # noqa: F811
    s3_stores: dict[str, dict[str, object]],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    config_path, _ = ledger_site(tmp_path, (sshd_host, sshd_host_b), pg_sites, s3_stores)
    config = str(config_path)
    assert main(["-c", config, "backup"]) == 0
    assert main(["-c", config, "copy-offsite"]) == 0
    dead = "http://127.0.0.1:9"  # nothing listens on the discard port: connection refused
    text = config_path.read_text(encoding="utf-8")
    primary_endpoint = str(s3_stores["primary"]["endpoint_url"])
    offsite_endpoint = str(s3_stores["offsite"]["endpoint_url"])
    config_path.write_text(text.replace(primary_endpoint, dead), encoding="utf-8")

    code, scan = run_json(capsys, "-c", config, "verify", "--all")
    assert code == 1
    assert scan["scanned"] == ["offsite"] and list(scan["unreachable"]) == ["primary"]
    assert scan["recovery_points"] == 1 and scan["files"] >= 1 and scan["problems"] == []
    with (
        open_runtime(load_site(config_path)) as runtime,
        runtime.catalog.begin() as connection,
    ):
        assert integrity.list_failures(connection) == []  # unreachable is not bad
        copies = {c.store: c.status for c in cat.list_copies(connection)}
    assert copies == {"primary": "present", "offsite": "present"}

    config_path.write_text(
        text.replace(primary_endpoint, dead).replace(offsite_endpoint, dead), encoding="utf-8"
    )
    code, scan = run_json(capsys, "-c", config, "verify", "--all")
    assert code == 3  # nothing could be compared
    assert scan["scanned"] == [] and set(scan["unreachable"]) == {"primary", "offsite"}
