"""Asia/Shanghai, the time zone of every business date and calendar day drctl judges.

On its own, not in `rules/workdays.py`: a calendar question (`drctl calendar`) needs the
working-day calendar but no time zone, and `zoneinfo` with its tz path lookup costs it a
noticeable share of its start (docs/benchmarks.md, start-up).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

__all__ = ["SHANGHAI"]
