"""A lean judge for many schools: the same outcomes as ``config.readiness.evaluate()``, without evidence.

:func:`config.readiness.evaluate` is the definition; it builds an
:class:`~config.wire.Evidence` model per subject, which the school page needs and
the overview of 50,000 schools does not. :func:`judge` reads plain rows instead,
reuses evaluate()'s own aggregation and comparisons, and returns only the level,
each rule's outcome and until when the verdict holds (``valid_until``: the
moment the oldest sample used leaves its window, or a sample dated ahead enters
it). tests/test_verdicts.py checks it against evaluate() on random data.

Rows are ``(value, taken_at, room, device, limited_by)`` tuples of one metric,
sorted by time (ties in the order they were stored). ``taken_at`` may be a
datetime or any value that sorts like one (SQLite's stored text): the plan's
window bounds are given in the same form by the caller's ``encode``.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from config.profile import Aggregate, Gate, Profile, Rule, Scope
from config.readiness import _CLOCK_SKEW, _COMPARE, SchoolFacts, aggregate, effective_threshold
from config.wire import Level, RuleOutcomeStatus

Row = tuple[float, Any, str, str, str | None]
PASSED, FAILED, NO_DATA = (RuleOutcomeStatus.passed.value, RuleOutcomeStatus.failed.value,
                           RuleOutcomeStatus.no_data.value)
_SUBJECT = {Scope.school: -1, Scope.room: 2, Scope.device: 3}  # index in a row; -1: the school
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class Verdict:
    """A school's level, its rules' outcomes (in profile order) and until when they hold."""

    level: str
    outcomes: tuple[str, ...]
    valid_until: datetime | None

    def failing(self, plan: Plan) -> list[str]:
        """The ids of the rules not met."""
        return [rid for rid, o in zip(plan.ids, self.outcomes, strict=True) if o == FAILED]


@dataclass(frozen=True)
class Plan:
    """A profile made ready for judging many schools at ``now``."""

    rules: tuple[Rule, ...]
    ids: tuple[str, ...]
    now: datetime
    bounds: tuple[tuple[Any, Any], ...]  # per rule: (since, until) encoded like the rows' taken_at
    windows: dict[str, timedelta]  # metric -> the longest window of the rules reading it
    profile_hash: str


def profile_hash(profile: Profile) -> str:
    """A digest of the profile's content: a stored verdict made under another profile is stale."""
    return hashlib.sha256(profile.model_dump_json().encode()).hexdigest()


def make_plan(profile: Profile, now: datetime, encode: Callable[[datetime], Any] = lambda d: d) -> Plan:
    """The plan to judge schools with ``profile`` at ``now`` (``encode``: datetime -> the rows' form)."""
    windows: dict[str, timedelta] = {}
    bounds = []
    for rule in profile.rules:
        window = timedelta(days=rule.window_days)
        windows[rule.metric] = max(window, windows.get(rule.metric, window))
        bounds.append((encode(now - window), encode(now + _CLOCK_SKEW)))
    return Plan(rules=tuple(profile.rules), ids=tuple(r.id for r in profile.rules), now=now,
                bounds=tuple(bounds), windows=windows, profile_hash=profile_hash(profile))


def _subject_outcome(rule: Rule, threshold: float, clean: list[float], every: list[float],
                     latest_clean: float, latest: float) -> str:
    """``_evidence``'s outcome for one subject (values in time order)."""
    if len(clean) >= rule.min_samples:
        return PASSED if _meets(rule, threshold, clean, latest_clean) else FAILED
    if len(every) >= rule.min_samples:
        return PASSED if _meets(rule, threshold, every, latest) else NO_DATA
    return NO_DATA


def _meets(rule: Rule, threshold: float, values: list[float], latest: float) -> bool:
    compare = _COMPARE[rule.comparison]
    if rule.aggregate is Aggregate.share:
        met = sum(1 for v in values if compare(v, threshold))
        assert rule.share_min_pct is not None
        return 100.0 * met / len(values) >= rule.share_min_pct
    if rule.aggregate is Aggregate.latest:
        return compare(float(latest), threshold)
    return compare(aggregate(rule.aggregate, values), threshold)


def judge_rule(rule: Rule, rows: Sequence[Row], since: Any, until: Any, facts: SchoolFacts,
               to_datetime: Callable[[Any], datetime]) -> tuple[str, datetime | None]:
    """One rule's outcome on its metric's rows, and until when it holds (None: until new data)."""
    key = _SUBJECT[rule.scope]
    groups: dict[str, list[Any]] = {}  # subject -> [clean values, all values, latest clean, latest]
    first = ahead = None
    for row in rows:
        value, t = row[0], row[1]
        if t > until:
            if ahead is None or t < ahead:
                ahead = t
            continue
        if t < since or not math.isfinite(value):
            continue
        if first is None:
            first = t
        subject: str = "school" if key < 0 else row[key]  # type: ignore[assignment]
        g = groups.get(subject)
        if g is None:
            g = groups[subject] = [[], [], 0.0, 0.0]
        if row[4] is None:
            g[0].append(value)
            g[2] = value
        g[1].append(value)
        g[3] = value
    outcome = NO_DATA
    if groups:
        threshold = effective_threshold(rule, facts)[0] if rule.scale_by else rule.threshold
        seen = {_subject_outcome(rule, threshold, *g) for g in groups.values()}
        outcome = FAILED if FAILED in seen else PASSED if PASSED in seen else NO_DATA
    until_dt = None
    if first is not None:
        until_dt = to_datetime(first) + timedelta(days=rule.window_days)
    if ahead is not None:
        enters = to_datetime(ahead) - _CLOCK_SKEW - _TICK
        until_dt = enters if until_dt is None else min(until_dt, enters)
    return outcome, until_dt


def level_from(rules: Sequence[Rule], outcomes: Sequence[str]) -> str:
    """``level_of`` on plain outcomes."""
    gating = [(r, o) for r, o in zip(rules, outcomes, strict=True) if r.level in (Gate.floor, Gate.base)]
    if any(o == FAILED for _, o in gating):
        return Level.not_ready.value
    if all(o == NO_DATA for o in outcomes):
        return Level.no_data.value
    if any(r.required and o == NO_DATA for r, o in gating):
        return Level.no_data.value
    targets = [o for r, o in zip(rules, outcomes, strict=True) if r.level is Gate.target]
    if targets and all(o == PASSED for o in targets):
        return Level.target.value
    return Level.base.value


def judge(plan: Plan, by_metric: dict[str, list[Row]], facts: SchoolFacts,
          to_datetime: Callable[[Any], datetime]) -> Verdict:
    """A school's verdict from its rows grouped by metric (each list sorted by time)."""
    outcomes = []
    valid_until: datetime | None = None
    for rule, (since, until) in zip(plan.rules, plan.bounds, strict=True):
        rows = by_metric.get(rule.metric)
        if not rows:
            outcomes.append(NO_DATA)
            continue
        outcome, holds = judge_rule(rule, rows, since, until, facts, to_datetime)
        outcomes.append(outcome)
        if holds is not None and (valid_until is None or holds < valid_until):
            valid_until = holds
    return Verdict(level=level_from(plan.rules, outcomes), outcomes=tuple(outcomes), valid_until=valid_until)
