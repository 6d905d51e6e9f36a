"""Rules: the rule pack (clauses and thresholds), the statutory calendar, and rule checks.

Flow: config → rules → actions. Nothing here touches hosts or stores.

Import from the modules themselves (`orchestrator.rules.pack`, `.workdays`, `.status` …): this
package imports nothing, so a calendar question does not load the rule pack, its YAML and the
site settings' pydantic models (docs/benchmarks.md, start-up).
"""
