"""Stores hold recovery points: `<root>/<system>/<dataset>/<recovery_point_id>/…`."""

from orchestrator.integrations.stores.base import Store, open_store, point_prefix

__all__ = ["Store", "open_store", "point_prefix"]
