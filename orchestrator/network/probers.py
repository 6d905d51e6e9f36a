"""One prober per vantage of a configured network path: `local` probes from this node with the
path's kind, other vantages read the `vantage` label of Prometheus's probe_success; a target
or vantage this node cannot probe is refused with every problem at once."""

from __future__ import annotations

from collections.abc import Mapping

from orchestrator.errors import InputError
from orchestrator.model.settings import NetworkPath
from orchestrator.network.probes import (
    LOCAL_VANTAGE,
    Prober,
    probe_http,
    probe_icmp,
    probe_prometheus,
    probe_tcp,
    split_host_port,
)


def make_probers(
    path: NetworkPath,
    prometheus_url: str | None,
    source: str,
    where: str,
    extra: Mapping[str, Prober] | None = None,
) -> dict[str, Prober]:
    """Given a network path, return one prober per vantage. `local` probes from this node;
    for kind prometheus another vantage name selects the `vantage` label of probe_success;
    `extra` supplies probers for other vantage names. Raise InputError (naming the config file
    `source` and `where`, the path inside it) for a target or vantage this node cannot probe."""
    probers: dict[str, Prober] = {}
    problems = []
    if path.kind in ("tcp",):
        try:
            split_host_port(path.target)
        except ValueError as error:
            problems.append(f"{where}.target: {error}")
    if path.kind == "http" and not path.target.startswith(("http://", "https://")):
        problems.append(f"{where}.target: {path.target!r}: expected an http:// or https:// URL")
    if path.kind == "prometheus" and not prometheus_url:
        problems.append(f"{where}.kind: prometheus needs network.prometheus_url")
    for vantage in path.vantages:
        if extra and vantage in extra:
            probers[vantage] = extra[vantage]
        elif path.kind == "prometheus" and prometheus_url:
            label = None if vantage == LOCAL_VANTAGE else vantage
            probers[vantage] = _prometheus_prober(prometheus_url, path, label)
        elif vantage == LOCAL_VANTAGE:
            probers[vantage] = _local_prober(path)
        else:
            problems.append(
                f"{where}.vantages: {vantage!r}: this node probes only from "
                f"{LOCAL_VANTAGE!r} (other vantages need kind prometheus)"
            )
    if problems:
        raise InputError(source, problems)
    return probers


def _local_prober(path: NetworkPath) -> Prober:
    if path.kind == "tcp":
        return lambda: probe_tcp(path.target, path.timeout_seconds)
    if path.kind == "http":
        return lambda: probe_http(path.target, path.timeout_seconds)
    return lambda: probe_icmp(path.target, path.timeout_seconds)


def _prometheus_prober(url: str, path: NetworkPath, label: str | None) -> Prober:
    return lambda: probe_prometheus(url, path.target, label, path.timeout_seconds)
