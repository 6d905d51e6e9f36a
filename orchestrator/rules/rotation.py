"""How long full recovery points are kept: the rule pack's rotation, raised for log and
accounting-change datasets, and never below the hard floors in this module.

The floors are constants in code on purpose: no config, rule override or catalog row can lower
them (260号 第七条 「数据完全备份介质的循环周期不能小于7天」; requirements.md A7).
"""

from __future__ import annotations

from orchestrator.rules.rule import RulePack

HARD_FLOOR_DAYS = 7
HARD_FLOOR_SECONDS = HARD_FLOOR_DAYS * 24 * 3600
HARD_FLOOR_GENERATIONS = 8

# Dataset categories whose records must be kept longer (260号 第六条), and the rule that says so.
CATEGORY_RETENTION_RULES = {
    "logs": "logs.operation_retention",
    "accounting_changes": "logs.accounting_retention",
}


def rotation_days(pack: RulePack, category: str) -> int:
    """Given the site's rule pack and a dataset category, return how many days a full
    recovery point of that category is kept at least: the rotation period (backup.rotation
    min_days), raised to the category's retention rule, never below HARD_FLOOR_DAYS."""
    period = int(pack.get("backup.rotation").value("min_days"))
    rule_id = CATEGORY_RETENTION_RULES.get(category)
    if rule_id is not None and rule_id in pack:
        period = max(period, int(pack.get(rule_id).value("min_days")))
    return max(period, HARD_FLOOR_DAYS)


def keep_generations(pack: RulePack) -> int:
    """Given the site's rule pack, return how many newest generations (business dates) every
    store keeps, never fewer than HARD_FLOOR_GENERATIONS."""
    return max(int(pack.get("backup.rotation").value("min_generations")), HARD_FLOOR_GENERATIONS)


def lock_seconds(pack: RulePack) -> float:
    """Given the site's rule pack, return how long a store keeps a newly written recovery
    point immutable (S3 Object Lock retain-until = written + this): the rotation period."""
    return float(pack.get("backup.rotation").value("min_days")) * 86400.0
