"""dr-orchestrator: disaster-recovery and backup-verification orchestrator (drctl)."""

__version__ = "0.1.0"
