"""Network availability (260号 第五条): probes, the per-path fault state machine, the outage
ledger's arithmetic, and the evaluators of `network.availability` and `network.max_outage`."""
