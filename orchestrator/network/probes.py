"""Probe kinds: one call, one answer. True = the path works, False = it failed, None = no data
(the prober itself could not judge: ICMP not permitted, Prometheus unreachable or without the
series). "No data" is never counted as up or down; it is reported separately.
"""

from __future__ import annotations

import json
import logging
import math
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable

from orchestrator.errors import OrchestratorError
from orchestrator.integrations import execute

logger = logging.getLogger(__name__)
LOCAL_VANTAGE = "local"

Prober = Callable[[], bool | None]


def split_host_port(target: str) -> tuple[str, int]:
    """Given "host:port" (or "[v6]:port"), return (host, port). Raise ValueError otherwise."""
    host, sep, port = target.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{target!r}: expected HOST:PORT")
    return host.strip("[]"), int(port)


def probe_tcp(target: str, timeout: float) -> bool:
    """Given host:port, return whether a TCP connection is accepted within timeout."""
    host, port = split_host_port(target)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError as error:
        logger.debug("tcp %s: %s", target, error)
        return False


def probe_http(url: str, timeout: float) -> bool:
    """Given an http(s) URL, return whether GET answers with a status below 400 in time
    (certificates are verified)."""
    try:
        with urllib.request.urlopen(  # noqa: S310 - scheme checked
            url,
            timeout=timeout,
            context=ssl.create_default_context(),
        ) as response:
            return int(response.status) < 400
    except urllib.error.HTTPError as error:
        logger.debug("http %s: status %s", url, error.code)
        return False
    except (urllib.error.URLError, OSError, ValueError) as error:
        logger.debug("http %s: %s", url, error)
        return False


def probe_icmp(host: str, timeout: float) -> bool | None:
    """Given a host, send one ICMP echo with `ping`; return True on a reply, False on none,
    None when ping itself failed (not installed, not permitted)."""
    wait = max(1, math.ceil(timeout))
    result = execute.run(
        ["ping", "-n", "-c", "1", "-W", str(wait), host], check=False, timeout=wait + 5
    )
    if result.exit_code in (0, 1):
        return result.exit_code == 0
    logger.warning("ping %s could not run (exit %s): %s", host, result.exit_code, result.tail(2))
    return None


def icmp_allowed() -> bool:
    """Return whether this node may send ICMP echoes (ping to 127.0.0.1 works)."""
    try:
        return probe_icmp("127.0.0.1", 2) is True
    except (OSError, OrchestratorError) as error:
        logger.warning("icmp probes disabled: %s", error)
        return False


def probe_prometheus(
    base_url: str, instance: str, vantage: str | None, timeout: float
) -> bool | None:
    """Given a Prometheus URL and a blackbox target, return the current `probe_success` for
    instance (and label vantage, when given): True when every matching series is 1, False when
    one is 0, None when Prometheus is unreachable or has no such series."""
    selector = f'instance="{_escape(instance)}"'
    if vantage is not None:
        selector += f',vantage="{_escape(vantage)}"'
    query = urllib.parse.urlencode({"query": f"probe_success{{{selector}}}"})
    url = f"{base_url.rstrip('/')}/api/v1/query?{query}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
            answer = json.load(response)
    except (urllib.error.URLError, OSError, ValueError) as error:
        logger.warning("prometheus %s: %s", base_url, error)
        return None
    series = answer.get("data", {}).get("result", []) if answer.get("status") == "success" else []
    if not series:
        return None
    return all(float(sample["value"][1]) == 1 for sample in series)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
