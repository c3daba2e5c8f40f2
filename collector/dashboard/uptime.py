"""The school page's uptime line (A13): the share of school-hours checks in which the internet answered.

Read from the school's evaluation (config/readiness.py judged the rule), so the page shows the very
figure the rule stands on: the percentage, how many checks it counts, the hours and the threshold.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from config.hours import DAYS
from config.readiness import Evaluation

_DAY = re.compile(r"\b(" + "|".join(DAYS) + r")\b")

UPTIME_METRIC = "latency.internet_reachable"


@dataclass(frozen=True)
class UptimeFigures:
    """A13 for one school: its figure (None: not judged), the checks counted and what it is held to."""

    rule_id: str
    outcome: str
    pct: float | None
    checks: int
    needed: int | None  # the checks the rule needs before it judges, when short of them
    share_min_pct: float | None
    hours: str | None
    timezone: str | None
    proposed: bool
    note: str | None

    def hours_in(self, t: Callable[..., str]) -> str:
        """The hours with the page's words for the days (``t``: the page's translator)."""
        return _DAY.sub(lambda m: t(f"day.{m.group(1)}"), self.hours or "—")


def from_evaluation(evaluation: Evaluation, needed: dict[str, int]) -> UptimeFigures | None:
    """The uptime line of the first school-scope rule on the reachability checks, None without one
    (``needed``: each rule's minimum sample count, by id)."""
    rule = next((o for o in evaluation.outcomes if o.metric == UPTIME_METRIC and o.scope == "school"), None)
    if rule is None:
        return None
    e = rule.evidence[0] if rule.evidence else None
    checks = e.samples if e else 0
    pct = e.value if e else None
    note = (e.note if e else None) or rule.note
    short = needed.get(rule.rule_id) if pct is None else None
    return UptimeFigures(rule_id=rule.rule_id, outcome=rule.outcome.value, pct=pct, checks=checks,
                         needed=short, share_min_pct=rule.share_min_pct, hours=rule.hours,
                         timezone=rule.timezone, proposed=rule.proposed, note=note)
