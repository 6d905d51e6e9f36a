"""check-config refuses what would make a copy not off-site or a rule meaningless (issue 9,
point 10): each case exits 2 naming the file, the path inside it and why."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from orchestrator.actions.sandbox import make_config, make_inventory
from orchestrator.config import load_config
from orchestrator.errors import ExitCode, InputError
from tests.fixtures.mounts import bind_mount

Edit = Callable[[dict[str, Any]], None]


def write_config(tmp_path: Path, data: dict[str, Any]) -> Path:
    (tmp_path / "inventory.ini").write_text(make_inventory("/usr/bin/python3"))
    path = tmp_path / "dr.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def refused(tmp_path: Path, edit: Edit) -> InputError:
    data = make_config(tmp_path)
    edit(data)
    with pytest.raises(InputError, match=r"dr\.yml: \d+ error") as raised:
        load_config(write_config(tmp_path, data))
    assert raised.value.exit_code == ExitCode.USAGE
    assert raised.value.source == str(tmp_path / "dr.yml")
    return raised.value


def same_url_as_primary(data: dict[str, Any]) -> None:
    data["stores"][1]["url"] = data["stores"][0]["url"]


def offsite_inside_primary(data: dict[str, Any]) -> None:
    data["stores"][1]["url"] = data["stores"][0]["url"] + "/offsite-copies"


def duplicate_store_name(data: dict[str, Any]) -> None:
    twin = copy.deepcopy(data["stores"][0])
    twin["name"] = "offsite"
    data["stores"].append(twin)


def offsite_in_production_city(data: dict[str, Any]) -> None:
    data["sites"][1]["city"] = " shanghai "


def production_city_missing(data: dict[str, Any]) -> None:
    del data["sites"][0]["city"]


def no_offsite_share(data: dict[str, Any]) -> None:
    data["verification"] = {"offsite_share": 0}


def duplicate_site(data: dict[str, Any]) -> None:
    data["sites"].append(copy.deepcopy(data["sites"][1]))


def duplicate_system(data: dict[str, Any]) -> None:
    data["systems"].append(copy.deepcopy(data["systems"][0]))


def duplicate_dataset_path(data: dict[str, Any]) -> None:
    datasets = data["systems"][0]["datasets"]
    datasets[2]["path"] = datasets[1]["path"] + "/"


def dr_site_is_production(data: dict[str, Any]) -> None:
    data["systems"][0]["disaster_recovery_site"] = data["systems"][0]["production_site"]


CASES = [
    (same_url_as_primary, r"systems\[0\]\.offsite_store: store 'offsite' .* same location"),
    (offsite_inside_primary, r"systems\[0\]\.offsite_store: .*same location .* or inside it"),
    (duplicate_store_name, r"stores: store name .offsite. is defined more than once"),
    (
        offsite_in_production_city,
        r"systems\[0\]\.offsite_store: store 'offsite' is at site 'disaster-recovery' in "
        r"shanghai, the same city as the production site",
    ),
    (production_city_missing, r"systems\[0\]\.offsite_store: .*sites\.production\.city"),
    (no_offsite_share, r"verification\.offsite_share: 0 reads nothing from the off-site copy"),
    (duplicate_site, r"sites: site name 'disaster-recovery' is defined more than once"),
    (duplicate_system, r"systems: system name 'core-banking' is defined more than once"),
    (duplicate_dataset_path, r"systems\[0\]\.datasets: path '.*' is backed up by more than one"),
    (dr_site_is_production, r"systems\[0\]\.disaster_recovery_site: 'production' is also"),
]


@pytest.mark.parametrize(("edit", "expected"), CASES, ids=[case[0].__name__ for case in CASES])
def test_config_refuses_structural_loosening(tmp_path: Path, edit: Edit, expected: str) -> None:
    error = refused(tmp_path, edit)
    assert any(re.search(expected, problem) for problem in error.problems), error.problems


def test_offsite_checks_quote_the_clause(tmp_path: Path) -> None:
    error = refused(tmp_path, offsite_in_production_city)
    assert "「备份数据要实行异地保存」" in str(error)


def test_check_config_exits_2_naming_file_and_path_and_writes_nothing(tmp_path: Path) -> None:
    data = make_config(tmp_path)
    same_url_as_primary(data)
    path = write_config(tmp_path, data)
    result = subprocess.run(
        [sys.executable, "-m", "orchestrator", "-c", str(path), "check-config"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert str(path) in result.stderr
    assert "systems[0].offsite_store" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dr.yml", "inventory.ini"]


def test_sandbox_config_passes_the_structural_checks(tmp_path: Path) -> None:
    loaded = load_config(write_config(tmp_path, make_config(tmp_path)))
    stores = [store.name for store in loaded.model.stores]
    assert stores == ["primary", "offsite", "evidence-anchor"]
    assert loaded.model.systems[0].offsite_store == "offsite"


def store_root(data: dict[str, Any], index: int) -> Path:
    return Path(urlsplit(data["stores"][index]["url"]).path)


@pytest.mark.parametrize("where", ["the primary itself", "a directory inside the primary"])
def test_an_offsite_store_reaching_the_primary_through_a_symlink_is_refused(
    tmp_path: Path, where: str
) -> None:
    """A `file://` off-site store named by another path to the primary's directory (a
    symlink; a bind mount compares the same, by device and inode) is not off-site."""
    data = make_config(tmp_path)
    primary = store_root(data, 0)
    target = primary if where == "the primary itself" else primary / "offsite-copies"
    target.mkdir(parents=True, exist_ok=True)
    alias = tmp_path / "elsewhere" / "offsite"
    alias.parent.mkdir(parents=True)
    alias.symlink_to(target)
    data["stores"][1]["url"] = f"file://{alias}"
    with pytest.raises(InputError) as raised:
        load_config(write_config(tmp_path, data))
    assert any("same location" in problem for problem in raised.value.problems), raised.value


@pytest.mark.parametrize("where", ["the primary itself", "a directory inside the primary"])
def test_an_offsite_store_showing_the_primary_by_a_bind_mount_is_refused(
    tmp_path: Path, where: str
) -> None:
    """A `file://` off-site store that is a bind mount of the primary's directory, or of a
    directory inside it, is not off-site: no link to resolve, and inside the primary the
    mount point's own device and inode are not the primary's (found by the mount table)."""
    data = make_config(tmp_path)
    primary = store_root(data, 0)
    source = primary if where == "the primary itself" else primary / "offsite-copies"
    source.mkdir(parents=True, exist_ok=True)
    alias = tmp_path / "elsewhere" / "offsite"
    data["stores"][1]["url"] = f"file://{alias}"
    path = write_config(tmp_path, data)
    with bind_mount(source, alias):
        with pytest.raises(InputError) as raised:
            load_config(path)
    assert any("same" in problem for problem in raised.value.problems), raised.value
    if where != "the primary itself":
        assert any("through a mount" in problem for problem in raised.value.problems)


def test_an_offsite_directory_of_its_own_is_accepted(tmp_path: Path) -> None:
    data = make_config(tmp_path)
    store_root(data, 0).mkdir(parents=True, exist_ok=True)
    offsite = tmp_path / "elsewhere" / "offsite"
    offsite.mkdir(parents=True)
    data["stores"][1]["url"] = f"file://{offsite}"
    load_config(write_config(tmp_path, data))


def test_check_config_refuses_an_sftp_offsite_store_that_is_the_primary_by_another_name(
    tmp_path: Path,
) -> None:
    """`localhost` and `127.0.0.1:22` are one SFTP server: the off-site copies would land in
    the primary's directory. Refused through the real CLI with exit 2, naming both stores."""
    data = make_config(tmp_path)
    data["stores"][0]["url"] = "sftp://backup@localhost/srv/dr"
    data["stores"][1]["url"] = "sftp://backup@127.0.0.1:22/srv/dr/offsite"
    path = write_config(tmp_path, data)
    result = subprocess.run(
        [sys.executable, "-m", "orchestrator", "-c", str(path), "check-config"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert "systems[0].offsite_store: store 'offsite'" in result.stderr
    assert "primary store 'primary'" in result.stderr
    assert "are one machine (this controller) port 22" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dr.yml", "inventory.ini"]


def test_an_s3_offsite_store_on_the_primary_endpoint_by_another_name_is_refused(
    tmp_path: Path,
) -> None:
    def same_endpoint(data: dict[str, Any]) -> None:
        data["stores"][0].update(url="s3://dr/points", endpoint_url="http://127.0.0.1:8333")
        data["stores"][1].update(url="s3://dr/points/x", endpoint_url="http://localhost:8333")

    error = refused(tmp_path, same_endpoint)
    assert any("store 'offsite'" in p and "one machine" in p for p in error.problems), error
