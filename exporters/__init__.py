"""Exporters: the Prometheus collector, alert rules and the Grafana dashboard of dr-orchestrator."""
