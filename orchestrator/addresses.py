"""Which machine a host name stands for, as seen from the controller (`getaddrinfo`).

Two names can be one machine (`localhost` and `127.0.0.1`, a DNS alias, this controller's own
name and its address). A name is resolved to its addresses; a loopback address and this
controller's own addresses are all `CONTROLLER`, so names are compared by the machines they
reach, not by their spelling. The controller's own addresses are every address it can bind
(each interface's, not only what its host name resolves to), and an IPv4-mapped IPv6 address
(`::ffff:127.0.0.1`) is the IPv4 address it carries. A controller set to bind non-local
addresses (`ip_nonlocal_bind`) finds every address its own: the safe side. A name that does
not resolve stands for itself (lower-cased): the controller could not reach it either. The
controller is assumed to resolve names as the sites do (one DNS view; docs/operators.md).
Only reads.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

CONTROLLER = "this controller"

Resolver = Callable[[str], frozenset[str]]


def _bindable(address: str) -> bool:
    """Return whether an address is one of this machine's own: a socket binds to it (an
    ephemeral port, closed at once; nothing is sent)."""
    try:
        found = ipaddress.ip_address(address)
    except ValueError:
        return False
    family = socket.AF_INET6 if found.version == 6 else socket.AF_INET
    try:  # getaddrinfo gives a link-local address's scope (`fe80::1%eth0`) to bind with
        where = socket.getaddrinfo(str(found), 0, family, socket.SOCK_DGRAM)[0][4]
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.bind(where)
    except (OSError, IndexError):
        return False
    return True


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
        return frozenset({_canonical(name)})
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(name, None)
    except (OSError, UnicodeError):
        return frozenset({name.lower()})
    return frozenset(_canonical(str(info[4][0]).split("%")[0]) for info in infos)


def _canonical(address: str) -> str:
    """Return an address as one spelling: an IPv4-mapped IPv6 address as the IPv4 one it
    carries; raise ValueError when it is not an address."""
    found = ipaddress.ip_address(address)
    if isinstance(found, ipaddress.IPv6Address) and found.ipv4_mapped is not None:
        return str(found.ipv4_mapped)
    return str(found)


def is_loopback(address: str) -> bool:
    """Given an address (or an unresolved name), return whether it is this machine's loopback:
    a loopback address, or the unspecified one (0.0.0.0, ::), which a connection also takes to
    this machine."""
    try:
        found = ipaddress.ip_address(_canonical(address))
    except ValueError:
        return address == "localhost"
    return found.is_loopback or found.is_unspecified


def as_machines(addresses: frozenset[str], own: frozenset[str]) -> frozenset[str]:
    """Given resolved addresses and the controller's own, return them as machines seen from the
    controller: a loopback or own address (one it resolves its name to, or can bind) is
    CONTROLLER."""
    return frozenset(
        CONTROLLER if is_loopback(address) or address in own or _bindable(address) else address
        for address in addresses
    )


def machines_of(name: str) -> frozenset[str]:
    """Given a host name or address, return the machines it reaches from the controller."""
    return as_machines(resolve(name), own_addresses())
