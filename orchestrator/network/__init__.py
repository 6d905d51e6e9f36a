"""Network probing (260号 第五条): probes, the per-path fault state machine, and the probe
rounds written to the outage ledger. What the ledger's figures mean and how the rules are
judged lives in `orchestrator.rules.availability` and `orchestrator.rules.evaluate_network`."""

# How often `drctl serve` probes every replication link (actions/serve.py), here so the CLI
# states the default without importing the serve loop. Below
# replication.max_probe_gap_seconds' default (900 s): a missed pass costs no healthy time.
REPLICATION_PROBE_SECONDS = 300.0
