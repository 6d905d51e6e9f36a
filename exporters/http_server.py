"""Serving /metrics for `drctl metrics --listen` and beside the probes of `drctl serve`: the
--listen address, and prometheus_client's server in a background thread."""

from __future__ import annotations

import logging
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server

from exporters import DEFAULT_LISTEN
from orchestrator.errors import InfrastructureError, InputError

logger = logging.getLogger(__name__)


def parse_listen(listen: str) -> tuple[str, int]:
    """Given "host:port", return (host, port). Raise InputError naming --listen otherwise."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise InputError("--listen", [f"{listen!r}: expected HOST:PORT (e.g. {DEFAULT_LISTEN})"])
    return host.strip("[]") or "0.0.0.0", int(port)  # noqa: S104 - ":PORT" means every address


def start_metrics_server(listen: str, registry: CollectorRegistry) -> WSGIServer:
    """Serve the registry on /metrics at listen ("host:port") in a background thread; return
    the server (`.shutdown()` stops it). Raise InputError for a malformed address and
    InfrastructureError when it cannot be served (in use, not ours)."""
    host, port = parse_listen(listen)
    try:
        server, _thread = start_http_server(port, addr=host, registry=registry)
    except OSError as error:
        raise InfrastructureError(
            f"--listen {listen}: cannot serve /metrics: {error.strerror or error}"
        ) from error
    logger.info("metrics on http://%s:%d/metrics", host, port)
    return server
