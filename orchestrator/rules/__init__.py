"""Rules: the rule pack (clauses and thresholds), the statutory calendar, and rule checks.

Flow: config → rules → actions. Nothing here touches hosts or stores.
"""

from orchestrator.rules.pack import (
    Clause,
    Rule,
    RulePack,
    Severity,
    Threshold,
    apply_site_overrides,
    default_pack_path,
    load_pack,
)
from orchestrator.rules.status import Status
from orchestrator.rules.workdays import WorkdayCalendar, business_date

__all__ = [
    "Clause",
    "Rule",
    "RulePack",
    "Severity",
    "Status",
    "Threshold",
    "WorkdayCalendar",
    "apply_site_overrides",
    "business_date",
    "default_pack_path",
    "load_pack",
]
