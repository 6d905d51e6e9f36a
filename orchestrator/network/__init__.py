"""Network probing (260号 第五条): probes, the per-path fault state machine, and the probe
rounds written to the outage ledger. What the ledger's figures mean and how the rules are
judged lives in `orchestrator.rules.availability` and `orchestrator.rules.evaluate_network`."""
