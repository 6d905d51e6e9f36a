"""dr.yml validation: every problem at once, each with its path; nothing is written."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestrator.actions.sandbox import make_config, make_inventory
from orchestrator.config import load_config
from orchestrator.errors import ExitCode, InputError
from orchestrator.site import load_site


def write_config(tmp_path: Path, data: dict) -> Path:
    (tmp_path / "inventory.ini").write_text(make_inventory("/usr/bin/python3"))
    path = tmp_path / "dr.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def test_sandbox_config_is_valid(tmp_path: Path) -> None:
    site = load_site(write_config(tmp_path, make_config(tmp_path)))
    assert [dataset.name for dataset in site.config.model.systems[0].datasets][:3] == [
        "ledger",
        "config",
        "programs",
    ]
    assert not (tmp_path / "state").exists(), "loading a config must write nothing"


def test_config_reports_every_error_with_its_path(tmp_path: Path) -> None:
    data = make_config(tmp_path)
    system = data["systems"][0]  # type: ignore[index]
    system["datasets"][1]["engine"] = "oracle"
    system["datasets"][2]["colour"] = "blue"
    system["offsite_store"] = "primary"
    data["stores"][0]["url"] = "ftp://nowhere"  # type: ignore[index]
    del data["inventory"]
    with pytest.raises(InputError, match=r"systems\[0\]\.datasets\[1\]\.engine") as raised:
        load_config(write_config(tmp_path, data))
    text = str(raised.value)
    assert raised.value.exit_code == ExitCode.USAGE
    assert str(tmp_path / "dr.yml") in text
    assert (
        "systems[0].datasets[1].engine: expected files, sqlite, postgresql or mariadb, "
        "got 'oracle' (text)" in text
    )
    assert "systems[0].datasets[2].colour: unknown key" in text
    assert "stores[0]: url 'ftp://nowhere'" in text
    assert "inventory: required key is missing" in text
    assert len(raised.value.problems) >= 4


def test_config_refuses_offsite_store_at_the_production_site(tmp_path: Path) -> None:
    data = make_config(tmp_path)
    data["systems"][0]["offsite_store"] = "primary"  # type: ignore[index]
    with pytest.raises(InputError, match="「备份数据要实行异地保存」") as raised:
        load_config(write_config(tmp_path, data))
    assert "「备份数据要实行异地保存」" in str(raised.value)


def test_config_refuses_weaker_rotation_quoting_the_clause(tmp_path: Path) -> None:
    data = make_config(tmp_path)
    data["rules"] = {"backup.rotation": {"min_days": 3}}
    with pytest.raises(InputError, match="循环周期不能小于7天") as raised:
        load_site(write_config(tmp_path, data))
    assert "第七条" in str(raised.value)
    assert "循环周期不能小于7天" in str(raised.value)


def test_config_accepts_stricter_rotation(tmp_path: Path) -> None:
    data = make_config(tmp_path)
    data["rules"] = {"backup.rotation": {"min_days": 30}}
    site = load_site(write_config(tmp_path, data))
    assert site.pack["backup.rotation"].value("min_days") == 30


def test_config_with_broken_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "dr.yml"
    path.write_text("version: 1\nsites: [\n")
    with pytest.raises(InputError, match=r"line \d+, column \d+: invalid YAML"):
        load_config(path)


def test_config_that_is_not_utf8_text_is_a_usage_error_naming_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "dr.yml"
    path.write_bytes("version: 1\n# 站点\n".encode("gbk"))
    with pytest.raises(InputError, match=r"byte \d+: expected UTF-8 text") as refused:
        load_config(path)
    assert refused.value.exit_code == ExitCode.USAGE and refused.value.source == str(path)


def test_dataset_path_may_not_leave_the_data_root(tmp_path: Path) -> None:
    data = make_config(tmp_path)
    data["systems"][0]["datasets"][0]["path"] = "../../etc/shadow"  # type: ignore[index]
    with pytest.raises(InputError, match=r"systems\[0\]\.datasets\[0\].*without '\.\.'"):
        load_config(write_config(tmp_path, data))


@pytest.mark.parametrize(
    ("key", "url"),
    [
        ("url", "sftp://drctl:hunter2-secret@backup.example/srv/dr"),
        ("url", "s3://AKIAEXAMPLE:hunter2-secret@dr-offsite/core"),
        ("endpoint_url", "https://AKIAEXAMPLE:hunter2-secret@s3.hf.bank.example:9000"),
    ],
)
def test_store_url_with_a_password_is_refused_without_echoing_it(
    tmp_path: Path, key: str, url: str
) -> None:
    """A store URL is logged, recorded in the catalog and quoted in errors and evidence: one
    that carries a password is refused (exit 2), and the refusal does not repeat it."""
    data = make_config(tmp_path)
    data["stores"][1].update({key: url, "known_hosts": str(tmp_path / "known_hosts")})
    if key == "endpoint_url":
        data["stores"][1]["url"] = "s3://dr-offsite/core"
    path = write_config(tmp_path, data)
    with pytest.raises(InputError) as refused:
        load_config(path)
    assert refused.value.exit_code == ExitCode.USAGE
    text = str(refused.value)
    assert f"stores[1]: {key} " in text and "expected no password in a URL" in text
    assert "hunter2-secret" not in text


@pytest.mark.parametrize("hour", [True, "6", 6.0])
def test_a_number_setting_given_as_true_or_text_is_refused(tmp_path: Path, hour: object) -> None:
    data = make_config(tmp_path)
    data.setdefault("calendar", {})["business_date_cutoff_hour"] = hour
    with pytest.raises(InputError, match=r"calendar\.business_date_cutoff_hour: expected"):
        load_config(write_config(tmp_path, data))


@pytest.mark.parametrize(
    ("where", "value", "expected"),
    [
        (("network", "paths", 0, "interval_seconds"), "5", "expected a number, got '5'"),
        (("network", "paths", 0, "failures_to_open"), 2.5, "expected a whole number, got 2.5"),
        (("network", "paths", 0, "timeout_seconds"), True, "expected a number, got True"),
    ],
)
def test_every_number_setting_is_refused_as_text_or_a_boolean(
    tmp_path: Path, where: tuple[object, ...], value: object, expected: str
) -> None:
    data = make_config(tmp_path)
    data["network"] = {"paths": [{"name": "dc-dr", "kind": "tcp", "target": "127.0.0.1:9"}]}
    node: Any = data
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    with pytest.raises(InputError, match=re.escape(expected)):
        load_config(write_config(tmp_path, data))
    node[where[-1]] = 2  # a number as a number still loads
    load_config(write_config(tmp_path, data))
