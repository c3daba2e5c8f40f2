"""The row judge: a school's verdict from plain rows, each metric's in time order.

Rows are ``(value, taken_at, room, device, limited_by)`` tuples of one metric,
sorted by time (ties in the order they were stored). ``taken_at`` may be a
datetime or any value that sorts like one (microseconds since the epoch): the
plan's window bounds are given in the same form by the caller's ``encode``
(collector/judge/plan.py). Sets the column judge cannot take (a survey's values
at their own times, a metric twice in a set) are judged here, value by value
(:func:`judge_values`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from collector.db.sample_sets import expand, to_us
from collector.judge.plan import NO_DATA, SUBJECT, TICK, Plan, Verdict
from config.profile import Rule
from config.readiness import CLOCK_SKEW, SchoolFacts, combine, effective_threshold, judge_subject

Row = tuple[float, Any, str, str, str | None]
# A stored set as read: (taken_us, room, device, layout digest, values, times, limited).
SetRow = tuple[int, str, str, str, bytes, bytes | None, str | None]


def judge_rule(rule: Rule, rows: Sequence[Row], since: Any, until: Any, facts: SchoolFacts,
               to_datetime: Callable[[Any], datetime]) -> tuple[str, datetime | None, float | None]:
    """One rule's outcome on its metric's rows, until when it holds (None: until new data), and for a
    school-wide rule its figure (None: too few values, or another scope)."""
    key = SUBJECT[rule.scope]
    during = rule.during
    groups: dict[str, tuple[list[float], list[float]]] = {}  # subject -> (clean values, all values)
    first = ahead = None
    for row in rows:
        value, t = row[0], row[1]
        if t > until:
            if ahead is None or t < ahead:
                ahead = t
            continue
        if t < since or not math.isfinite(value) or (during is not None and not during.covers_at(t)):
            continue
        if first is None:
            first = t
        subject: str = "school" if key < 0 else row[key]  # type: ignore[assignment]
        clean, every = groups.setdefault(subject, ([], []))
        if row[4] is None:
            clean.append(value)
        every.append(value)
    outcome, found = NO_DATA, None
    if groups:
        threshold = effective_threshold(rule, facts)[0]
        judged = [judge_subject(rule, threshold, clean, every) for clean, every in groups.values()]
        outcome = combine(j.outcome for j in judged).value
        found = judged[0].value if key < 0 else None
    until_dt = None
    if first is not None:
        until_dt = to_datetime(first) + timedelta(days=rule.window_days)
    if ahead is not None:
        enters = to_datetime(ahead) - CLOCK_SKEW - TICK
        until_dt = enters if until_dt is None else min(until_dt, enters)
    return outcome, until_dt, found


def judge(plan: Plan, by_metric: dict[str, list[Row]], facts: SchoolFacts,
          to_datetime: Callable[[Any], datetime]) -> Verdict:
    """A school's verdict from its rows grouped by metric (each list sorted by time)."""
    outcomes = []
    figures: dict[int, float | None] = {}
    valid_until: datetime | None = None
    for r, (rule, (since, until)) in enumerate(zip(plan.rules, plan.bounds, strict=True)):
        rows = by_metric.get(rule.metric)
        if not rows:
            outcomes.append(NO_DATA)
            continue
        outcome, holds, figures[r] = judge_rule(rule, rows, since, until, facts, to_datetime)
        outcomes.append(outcome)
        if holds is not None and (valid_until is None or holds < valid_until):
            valid_until = holds
    done = tuple(outcomes)
    return Verdict(level=plan.level(done), outcomes=done, valid_until=valid_until,
                   measured=plan.measured(figures))


def as_rows(sets: Sequence[SetRow], names: dict[str, tuple[str, ...]],
            wanted: tuple[str, ...]) -> dict[str, list[Row]]:
    """Stored sets as :func:`judge`'s rows, each metric's in time order (ties as stored)."""
    keep = frozenset(wanted)
    by_metric: dict[str, list[tuple[int, int, Row]]] = {}
    stored = itertools.count()
    for s in sets:
        for sample in expand(s[:7], names.get(s[3], ()), keep):
            at = to_us(sample.taken_at)
            by_metric.setdefault(sample.metric, []).append(
                (at, next(stored), (sample.value, at, sample.room, sample.device, sample.limited_by)))
    return {m: [row for _, _, row in sorted(rows)] for m, rows in by_metric.items()}


def judge_values(plan: Plan, sets: Sequence[SetRow], names: dict[str, tuple[str, ...]],
                 facts: SchoolFacts, to_datetime: Callable[[Any], datetime]) -> Verdict:
    """A school's verdict from its stored sets read value by value (sets the column judge cannot take)."""
    return judge(plan, as_rows(sets, names, plan.metrics), facts, to_datetime)
