"""The inventory is read once per file version with one `ansible-inventory --list`, and gives
each host the variables `ansible-inventory --host` gives it."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from orchestrator.errors import InputError
from orchestrator.integrations.hosts import read_host_vars

INVENTORY = (
    "[production]\nprod-1 ansible_connection=local\n\n"
    "[disaster_recovery]\ndr-1 ansible_host=192.0.2.7 ansible_port=2222\n\n"
    "[bare]\nbare-1\n"
)


def inventory_calls(caplog: pytest.LogCaptureFixture) -> int:
    return sum(
        "ansible-inventory" in r.getMessage() and "ran " in r.getMessage() for r in caplog.records
    )


def test_every_host_read_from_one_listing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    inventory = tmp_path / "inventory.ini"
    inventory.write_text(INVENTORY, encoding="utf-8")
    caplog.set_level(logging.DEBUG, logger="orchestrator.integrations.execute")
    assert read_host_vars(inventory, "prod-1") == {"ansible_connection": "local"}
    assert read_host_vars(inventory, "dr-1") == {"ansible_host": "192.0.2.7", "ansible_port": 2222}
    assert read_host_vars(inventory, "bare-1") == {}
    assert inventory_calls(caplog) == 1
    with pytest.raises(InputError, match="host 'nowhere-1': not found in the inventory"):
        read_host_vars(inventory, "nowhere-1")
    assert inventory_calls(caplog) == 1


def test_an_edited_inventory_is_read_again(tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.ini"
    inventory.write_text(INVENTORY, encoding="utf-8")
    assert read_host_vars(inventory, "prod-1") == {"ansible_connection": "local"}
    inventory.write_text(INVENTORY.replace("prod-1 ansible_connection=local", "prod-2"), "utf-8")
    stat = inventory.stat()
    os.utime(inventory, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert read_host_vars(inventory, "prod-2") == {}
    with pytest.raises(InputError, match="host 'prod-1': not found"):
        read_host_vars(inventory, "prod-1")


def test_a_missing_inventory_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="inventory cannot be read"):
        read_host_vars(tmp_path / "absent.ini", "prod-1")
