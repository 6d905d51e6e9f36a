"""`drctl check-config --connect` against the real test bed: sshd hosts with strict host keys,
SeaweedFS buckets with and without Object Lock, and the password variables."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from orchestrator.cli import main
from tests.fixtures.hosts import SshHost
from tests.fixtures.real_site import MARIADB_PASSWORD_ENV, PG_PASSWORD_ENV, build_config
from tests.fixtures.s3 import S3Server, s3_client
from tests.integration.test_real_site import (  # noqa: F401 - fixtures used by name
    db_password,
    passwords,
    s3_stores,
    site_beds,
)


def check(config_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict, str]:
    capsys.readouterr()
    code = main(["-c", str(config_path), "--json", "check-config", "--connect"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def test_check_config_connect_finds_what_would_stop_a_backup(
    tmp_path: Path,
    sshd_host: SshHost,
    sshd_host_b: SshHost,
    s3_site_a: S3Server,
    passwords: str,  # noqa: F811
    s3_stores: dict[str, dict[str, object]],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    databases = {"ledger": "corebank", "cards": "cards"}
    for name in ("good", "bad"):
        (tmp_path / name).mkdir()
    good = build_config(
        tmp_path / "good", site_beds(sshd_host, sshd_host_b), stores=s3_stores, databases=databases
    )
    code, result, err = check(good, capsys)
    assert (code, result["problems"]) == (0, []), err
    assert result["connected"] is True
    spools = [tmp_path / "good" / "sites" / s / "spool" for s in ("production", "verification")]
    assert all(not any(p.rglob(".drctl-probe-*")) for p in spools if p.exists())
    # Without --connect none of this is looked at: an unset variable passes.
    monkeypatch.delenv(MARIADB_PASSWORD_ENV)
    capsys.readouterr()
    assert main(["-c", str(good), "check-config"]) == 0

    # Now: a password variable unset, the production host presenting another key, the
    # primary bucket without Object Lock, the off-site store's credentials wrong.
    plain = f"dr-plain-{uuid.uuid4().hex[:8]}"
    s3_client(s3_site_a).create_bucket(Bucket=plain)
    stores = {
        "primary": {**s3_stores["primary"], "url": f"s3://{plain}/core-banking"},
        "offsite": {**s3_stores["offsite"], "profile": "drctl-wrong"},
    }
    credentials = tmp_path / "aws-credentials"
    wrong_secret = uuid.uuid4().hex
    credentials.write_text(
        credentials.read_text()
        + f"[drctl-wrong]\naws_access_key_id = nobody\naws_secret_access_key = {wrong_secret}\n"
    )
    beds = site_beds(sshd_host, sshd_host_b, prod_known_hosts=sshd_host.wrong_known_hosts)
    bad = build_config(tmp_path / "bad", beds, stores=stores, databases=databases)
    code, result, err = check(bad, capsys)
    problems = result["problems"]
    assert code == 3 and result["exit_code"] == 3  # unreachable wins over config errors
    assert any(
        p.startswith(
            "systems[0].datasets[1].password_env: environment variable "
            f"{MARIADB_PASSWORD_ENV} (password of core-banking/cards)"
        )
        for p in problems
    )
    assert not any(PG_PASSWORD_ENV in p for p in problems)
    assert any(
        p.startswith("sites[0] production (host prod-db-1):") and "host key" in p for p in problems
    )
    assert any(
        p.startswith("stores[0] primary:") and "Object Lock is not enabled" in p for p in problems
    )
    assert any(p.startswith("stores[1] offsite:") and "not writable" in p for p in problems)
    assert not any("disaster-recovery" in p or "verification" in p for p in problems)
    assert f"{len(problems)} error(s)" in err
    assert passwords not in err + json.dumps(result)
    assert wrong_secret not in err + json.dumps(result)
