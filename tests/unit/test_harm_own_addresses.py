"""This controller's own addresses are every one it can bind, spelled any way a connection
takes: an interface's global address, its link-local one with the interface as scope
(`fe80::…%eth0`), and loopback as an IPv4-mapped IPv6 address. Each is CONTROLLER, so a
sandbox site naming it is compared with production's `localhost`."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.addresses import CONTROLLER, machines_of

IF_INET6 = Path("/proc/net/if_inet6")


def own_link_local() -> str:
    """Return one of this machine's link-local IPv6 addresses with its interface as scope,
    skipping the test when there is none."""
    rows = IF_INET6.read_text().split() if IF_INET6.exists() else []
    for at in range(0, len(rows), 6):
        digits, interface = rows[at], rows[at + 5]
        if digits.startswith("fe80"):
            groups = ":".join(digits[i : i + 4] for i in range(0, 32, 4))
            return f"{groups}%{interface}"
    pytest.skip("no link-local IPv6 address on this machine")


def test_own_link_local_address_with_scope_is_this_controller() -> None:
    assert machines_of(own_link_local()) == {CONTROLLER}


@pytest.mark.parametrize("spelling", ["::ffff:127.0.0.1", "::ffff:7f00:1", "127.000.000.001"])
def test_loopback_spellings_are_this_controller(spelling: str) -> None:
    assert machines_of(spelling) == {CONTROLLER}


def test_a_foreign_address_is_not_this_controller() -> None:
    assert machines_of("192.0.2.254") == {"192.0.2.254"}
