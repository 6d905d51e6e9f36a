"""Stores hold recovery points: `<root>/<system>/<dataset>/<recovery_point_id>/…`."""

from orchestrator.integrations.stores.base import Store, StoreSettings, point_prefix
from orchestrator.integrations.stores.factory import open_store

__all__ = ["Store", "StoreSettings", "open_store", "point_prefix"]
