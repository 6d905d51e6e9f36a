"""Which machine a host name stands for, as seen from the controller (`getaddrinfo`).

Two names can be one machine (`localhost` and `127.0.0.1`, a DNS alias, this controller's own
name and its address). A name is resolved to its addresses; a loopback address and this
controller's own addresses are all `CONTROLLER`, so names are compared by the machines they
reach, not by their spelling. A name that does not resolve stands for itself (lower-cased):
the controller could not reach it either. The controller is assumed to resolve names as the
sites do (one DNS view; docs/operators.md). Only reads.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

CONTROLLER = "this controller"

Resolver = Callable[[str], frozenset[str]]


def own_addresses() -> frozenset[str]:
    """Return this controller's own addresses (its host name resolved), empty if it does not
    resolve."""
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None)
    except OSError:
        return frozenset()
    return frozenset(str(info[4][0]) for info in infos)


def resolve(name: str) -> frozenset[str]:
    """Given a host name or address, return the addresses it resolves to (itself, lower-cased,
    if it does not resolve)."""
    try:
        return frozenset({str(ipaddress.ip_address(name))})
    except ValueError:
        pass
    try:
        return frozenset(str(info[4][0]).split("%")[0] for info in socket.getaddrinfo(name, None))
    except (OSError, UnicodeError):
        return frozenset({name.lower()})


def is_loopback(address: str) -> bool:
    """Given an address (or an unresolved name), return whether it is this machine's loopback:
    a loopback address, or the unspecified one (0.0.0.0, ::), which a connection also takes to
    this machine."""
    try:
        found = ipaddress.ip_address(address)
        return found.is_loopback or found.is_unspecified
    except ValueError:
        return address == "localhost"


def as_machines(addresses: frozenset[str], own: frozenset[str]) -> frozenset[str]:
    """Given resolved addresses and the controller's own, return them as machines seen from the
    controller: a loopback or own address is CONTROLLER."""
    return frozenset(
        CONTROLLER if is_loopback(address) or address in own else address for address in addresses
    )


def machines_of(name: str) -> frozenset[str]:
    """Given a host name or address, return the machines it reaches from the controller."""
    return as_machines(resolve(name), own_addresses())
