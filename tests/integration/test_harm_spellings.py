"""A sandbox site that reaches production's database server under another spelling, on real
sshd, PostgreSQL and SeaweedFS S3: seeding or destroying there is refused (exit 2) and
production's database is byte-for-byte the same.

The spellings are those the engine roles accept as one server: a port given only in the
dataset (the roles fall back to it when the host sets none), a port with a leading zero (the
roles read it as a number), the unspecified address 0.0.0.0 (a connection to it reaches
this machine's own server), loopback as an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`), and
this machine's own interface address (not what its host name resolves to), and a libpq list of
hosts (psql tries each in turn) whose last entry is production's.
"""

from __future__ import annotations

import hashlib
import shlex
import socket
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fixtures.databases import PostgresServer
from tests.fixtures.real_site import build_config, new_database_name
from tests.integration.test_drill_real_site import operator_corebank, pg_dump_text, run_cli
from tests.integration.test_real_site import (  # noqa: F401 - fixtures used by name
    db_password,
    passwords,
    pg_sites,
    s3_stores,
    site_beds,
)

SCENARIO = {
    "name": "test-site",
    "title": {"zh": "测试", "en": "test"},
    "system": "core-banking",
    "steps": [
        {"name": "seed", "action": "workload", "site": "disaster-recovery", "dataset": "ledger"},
        {"name": "disaster", "action": "disaster", "site": "disaster-recovery"},
        {"name": "failover", "action": "failover", "from_store": "offsite"}
        | {"to_site": "disaster-recovery"},
    ],
}


def interface_address() -> str:
    """Return this machine's address on the interface its default route leaves by (a UDP
    socket's own address once pointed at a documentation address; nothing is sent), skipping
    the test when there is none but loopback."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))
            address = str(probe.getsockname()[0])
    except OSError:
        pytest.skip("no interface but loopback")
    if address.startswith("127."):
        pytest.skip("no interface but loopback")
    return address


HOSTS = {
    "unspecified address 0.0.0.0": lambda: "0.0.0.0",
    "loopback as IPv4-mapped IPv6": lambda: "::ffff:127.0.0.1",
    "this machine's interface address": interface_address,
}


def _host_vars(inventory: Path, host: str) -> dict[str, str]:
    line = next(row for row in inventory.read_text().splitlines() if row.startswith(host + " "))
    return dict(pair.split("=", 1) for pair in shlex.split(line)[1:])


def respelled_sandbox(config_path: Path, port: int, spelling: str) -> None:
    """Make the disaster-recovery site a sandbox whose host is production's machine and whose
    PostgreSQL server is production's, spelled as `spelling` says."""
    data = yaml.safe_load(config_path.read_text())
    inventory = Path(data["inventory"])
    production = next(s for s in data["sites"] if s["name"] == "production")
    variables = _host_vars(inventory, production["host"])
    if spelling == "port only in the dataset":
        variables.pop("dr_postgresql_port")
        data["systems"][0]["datasets"][0]["port"] = port
    elif spelling == "port with a leading zero":
        variables["dr_postgresql_port"] = f"0{port}"
    elif spelling == "libpq host list, production's last":
        variables["dr_postgresql_host"] = "no-such-host.invalid," + variables["dr_postgresql_host"]
    else:
        variables["dr_postgresql_host"] = HOSTS[spelling]()
    line = " ".join(f"{key}={shlex.quote(value)}" for key, value in variables.items())
    with inventory.open("a", encoding="utf-8") as handle:
        handle.write(f"\n[sandbox_aliases]\nsandbox-db-1 {line}\n")
    for site in data["sites"]:
        if site["name"] == "disaster-recovery":
            site.update(sandbox=True, host="sandbox-db-1")
    config_path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))


@pytest.fixture()
def ledger_bed(
    tmp_path: Path,
    sshd_host: Any,
    sshd_host_b: Any,
    pg_sites: tuple[PostgresServer, PostgresServer],  # noqa: F811
    passwords: str,  # noqa: F811
    s3_stores: dict[str, dict[str, object]],  # noqa: F811
    request: pytest.FixtureRequest,
) -> tuple[Path, str, PostgresServer]:
    """The operator's corebank at production (its name made from the parameter, if any) and
    the documented config on the test bed; return the config's path, the database's name and
    production's server."""
    name = new_database_name(getattr(request, "param", "corebank"))
    corebank = operator_corebank(pg_sites[0], name)
    config_path = build_config(
        tmp_path,
        site_beds(sshd_host, sshd_host_b, pg=pg_sites),
        stores=s3_stores,
        databases={"ledger": corebank},
        datasets=("ledger",),
    )
    return config_path, corebank, pg_sites[0]


@pytest.mark.parametrize(
    "spelling",
    [
        "port only in the dataset",
        "port with a leading zero",
        "libpq host list, production's last",
        *HOSTS,
    ],
)
def test_sandbox_reaching_production_server_by_another_spelling_is_refused(
    tmp_path: Path,
    ledger_bed: tuple[Path, str, PostgresServer],
    capsys: pytest.CaptureFixture[str],
    spelling: str,
) -> None:
    config_path, corebank, pg_prod = ledger_bed
    respelled_sandbox(config_path, pg_prod.port, spelling)
    scenario = tmp_path / "test-site.yml"
    scenario.write_text(yaml.safe_dump(SCENARIO))
    before = pg_dump_text(pg_prod, corebank)
    config = str(config_path)

    code, _, err = run_cli(capsys, "-c", config, "check-config", "--scenario", str(scenario))
    assert code == 2, err
    assert "steps[0].action" in err and "steps[1].action" in err, err
    assert f"reach the same database server (postgresql this controller:{pg_prod.port})" in err
    code, out, err = run_cli(capsys, "-c", config, "drill", "run", str(scenario))
    assert code == 2, out + err
    assert "refused, nothing was touched" in err
    assert pg_dump_text(pg_prod, corebank) == before


def tree_digest(root: Path) -> dict[str, str]:
    """Return {relative path: sha256} of every file under root."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.mark.parametrize("spelling", ["{dr}/../../production/data", "/{production}"])
def test_sandbox_data_root_that_is_productions_by_another_spelling_is_refused(
    tmp_path: Path,
    ledger_bed: tuple[Path, str, PostgresServer],
    capsys: pytest.CaptureFixture[str],
    spelling: str,
) -> None:
    """A sandbox site on production's machine whose data_root is production's, written with
    `..` or a doubled leading slash: its disaster would remove production's files."""
    config_path = ledger_bed[0]
    data = yaml.safe_load(config_path.read_text())
    data["systems"][0]["datasets"] = [  # files only: no database server is shared
        {"name": "documents", "engine": "files", "category": "configuration", "path": "docs"}
    ]
    roots = {site["name"]: site["data_root"] for site in data["sites"]}
    production = Path(roots["production"])
    (production / "docs").mkdir(parents=True)
    Path(roots["disaster-recovery"]).mkdir(parents=True)  # where `..` is taken from
    (production / "docs" / "policy.txt").write_text("the bank's own file\n")
    for site in data["sites"]:
        if site["name"] == "disaster-recovery":
            root = spelling.format(dr=roots["disaster-recovery"], production=production)
            site.update(sandbox=True, data_root=root)
    config_path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    assert_disaster_refused(tmp_path, config_path, production, capsys)


def assert_disaster_refused(
    tmp_path: Path, config_path: Path, production: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that a disaster at the sandbox is refused (exit 2) by check-config and drill run
    as being on production's machine with its data_root, production's files unchanged."""
    scenario = tmp_path / "test-site.yml"
    scenario.write_text(yaml.safe_dump({**SCENARIO, "steps": SCENARIO["steps"][1:]}))
    before = tree_digest(production)
    config = str(config_path)

    code, _, err = run_cli(capsys, "-c", config, "check-config", "--scenario", str(scenario))
    assert code == 2, err
    assert "are one machine (this controller) with overlapping data_root" in err, err
    code, out, err = run_cli(capsys, "-c", config, "drill", "run", str(scenario))
    assert code == 2, out + err
    assert tree_digest(production) == before


def ssh_aliased_sandbox(config_path: Path, ssh_config: Path) -> Path:
    """Make the disaster-recovery site a sandbox reached by an ssh_config `Host` alias (not in
    DNS) whose `HostName` is production's machine, with production's data_root; return that
    data_root."""
    data = yaml.safe_load(config_path.read_text())
    inventory = Path(data["inventory"])
    production = next(s for s in data["sites"] if s["name"] == "production")
    variables = _host_vars(inventory, production["host"])
    ssh_config.write_text(f"Host prod-alias\n    HostName {variables['ansible_host']}\n")
    ssh_config.chmod(0o600)
    variables["ansible_host"] = "prod-alias"
    variables["ansible_ssh_common_args"] += f" -F {ssh_config}"
    line = " ".join(f"{key}={shlex.quote(value)}" for key, value in variables.items())
    with inventory.open("a", encoding="utf-8") as handle:
        handle.write(f"\n[sandbox_aliases]\nsandbox-alias-1 {line}\n")
    data["systems"][0]["datasets"] = [  # files only: no database server is shared
        {"name": "documents", "engine": "files", "category": "configuration", "path": "docs"}
    ]
    for site in data["sites"]:
        if site["name"] == "disaster-recovery":
            site.update(sandbox=True, host="sandbox-alias-1", data_root=production["data_root"])
    config_path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return Path(production["data_root"])


def test_sandbox_on_productions_machine_by_an_ssh_config_alias_is_refused(
    tmp_path: Path,
    ledger_bed: tuple[Path, str, PostgresServer],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """ssh (and so Ansible) reaches the alias's HostName: production's machine and files."""
    production = ssh_aliased_sandbox(ledger_bed[0], tmp_path / "ssh_config")
    (production / "docs").mkdir(parents=True)
    (production / "docs" / "policy.txt").write_text("the bank's own file\n")
    assert_disaster_refused(tmp_path, ledger_bed[0], production, capsys)


def test_sftp_store_in_productions_live_dataset_is_refused(
    tmp_path: Path,
    ledger_bed: tuple[Path, str, PostgresServer],
    sshd_host: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Production's primary store, sftp on production's machine, whose path (spelled with `//`
    and `.`) lies in production's live files dataset: a backup would write into live data.
    Refused when the config is loaded (exit 2): check-config and backup write nothing there."""
    config_path = ledger_bed[0]
    data = yaml.safe_load(config_path.read_text())
    data["systems"][0]["datasets"] = [
        {"name": "documents", "engine": "files", "category": "configuration", "path": "docs"}
    ]
    production = Path(next(s["data_root"] for s in data["sites"] if s["name"] == "production"))
    (production / "docs").mkdir(parents=True)
    (production / "docs" / "policy.txt").write_text("the bank's own file\n")
    where = f"{sshd_host.user}@{sshd_host.address}:{sshd_host.port}/{production}//docs/./drctl"
    for store in data["stores"]:
        if store["name"] == "primary":
            store.clear()
            store.update(name="primary", site="production", url=f"sftp://{where}")
            store.update(known_hosts=str(sshd_host.known_hosts))
            store.update(private_key=str(sshd_host.client_key))
    config_path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    before = tree_digest(production)
    config = str(config_path)

    for argv in (["check-config"], ["backup", "--system", "core-banking"]):
        code, out, err = run_cli(capsys, "-c", config, *argv)
        assert code == 2, out + err
        assert "store 'primary'" in err and "'production''s live dataset" in err, err
    assert tree_digest(production) == before
