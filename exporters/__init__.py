"""Exporters: the Prometheus collector, alert rules and the Grafana dashboard of dr-orchestrator.

DEFAULT_LISTEN is the one default address of `/metrics` (`drctl metrics` and `drctl serve`).
Port 19260 is outside the Prometheus default port allocations: 9100-9999 is fully allocated to
other exporters (9108 is the Graphite exporter's) and new allocations continue upwards from
10000. It is below the Linux ephemeral range (32768-60999), absent from /etc/services, and easy
to remember (260号). docs/metrics.md records the choice.
"""

DEFAULT_PORT = 19260
DEFAULT_LISTEN = f"127.0.0.1:{DEFAULT_PORT}"
