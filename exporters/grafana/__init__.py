"""Grafana dashboard for the dr-orchestrator feed, generated with grafana-foundation-sdk."""
