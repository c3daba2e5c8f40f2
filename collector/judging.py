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
datetime or any value that sorts like one (microseconds since the epoch): the
plan's window bounds are given in the same form by the caller's ``encode``.

:func:`judge_sets` judges stored sample sets (collector/sample_sets.py) without
making a row per sample: each set's values for the profile's metrics are taken
at once, the sets' times bisected for each rule's window. Sets it cannot take
that way (a survey's values at their own times, a metric twice) go through
:func:`judge` as rows.
"""

from __future__ import annotations

import hashlib
import json
import math
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any

from collector.sample_sets import unpack_doubles
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
    metrics: tuple[str, ...] = ()  # the metrics the rules read, each once, in order


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
                bounds=tuple(bounds), windows=windows, profile_hash=profile_hash(profile),
                metrics=tuple(dict.fromkeys(r.metric for r in profile.rules)))


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


# A stored set as read: (taken_us, room, device, layout digest, values, times, limited).
SetRow = tuple[int, str, str, str, bytes, bytes | None, str | None]
_NAN, _INF = float("nan"), float("inf")
_GETTERS: dict[tuple[tuple[str, ...], str], Callable[[Any], tuple[float, ...]] | None] = {}


def _getter(metrics: tuple[str, ...], digest: str,
            names: tuple[str, ...]) -> Callable[[Any], tuple[float, ...]] | None:
    """Takes ``metrics``' values (NaN when absent) from a set of layout ``names``; None if a name repeats."""
    key = (metrics, digest)
    if key in _GETTERS:
        return _GETTERS[key]
    getter: Callable[[Any], tuple[float, ...]] | None = None
    if len(set(names)) == len(names):
        where = {m: i for i, m in enumerate(names)}
        idx = [where.get(m, len(names)) for m in metrics]  # len(names): the NaN appended to each set
        getter = itemgetter(*idx) if len(idx) > 1 else (lambda a, i=idx[0]: (a[i],))
    if len(_GETTERS) < 10_000:
        _GETTERS[key] = getter
    return getter


def _values(blob: bytes) -> array[float]:
    a = unpack_doubles(bytes(blob))
    a.append(_NAN)
    return a


def _as_rows(sets: Sequence[SetRow], names: dict[str, tuple[str, ...]],
             wanted: tuple[str, ...]) -> dict[str, list[Row]]:
    """Sets as :func:`judge`'s rows (the slow path), each metric's in time order."""
    keep = set(wanted)
    by_metric: dict[str, list[tuple[int, int, Row]]] = {}
    order = 0
    for taken_us, room, device, digest, vals, times, limited, *_ in sets:
        values = _values(vals)
        each = None if times is None else array("q", bytes(times))
        causes: dict[str, str] = json.loads(limited) if limited else {}
        for i, metric in enumerate(names.get(digest, ())):
            if metric in keep:
                at = taken_us if each is None else each[i]
                order += 1
                by_metric.setdefault(metric, []).append(
                    (at, order, (values[i], at, room, device, causes.get(str(i)))))
    return {m: [row for _, _, row in sorted(rows)] for m, rows in by_metric.items()}


def judge_sets(plan: Plan, sets: Sequence[SetRow], names: dict[str, tuple[str, ...]],
               facts: SchoolFacts, to_datetime: Callable[[Any], datetime]) -> Verdict:
    """A school's verdict from its stored sets in time order (``plan`` made with times in microseconds)."""
    getters = []
    for s in sets:
        getter = None if s[5] is not None else _getter(plan.metrics, s[3], names.get(s[3], ()))
        if getter is None:
            return judge(plan, _as_rows(sets, names, plan.metrics), facts, to_datetime)
        getters.append(getter)
    if not sets:
        return judge(plan, {}, facts, to_datetime)
    taken = [g(_values(s[4])) for g, s in zip(getters, sets, strict=True)]
    cols = dict(zip(plan.metrics, zip(*taken, strict=True), strict=True))
    times = [s[0] for s in sets]
    rooms = [s[1] for s in sets]
    devices = [s[2] for s in sets]
    uniform = len(set(rooms)) == 1 and len(set(devices)) == 1
    limited: list[set[str]] | None = None
    if any(s[6] for s in sets):
        limited = [{names[s[3]][int(k)] for k in json.loads(s[6])} if s[6] else set() for s in sets]
    outcomes = []
    valid_until: datetime | None = None
    for rule, (since, until) in zip(plan.rules, plan.bounds, strict=True):
        col = cols[rule.metric]
        lo, hi = bisect_left(times, since), bisect_right(times, until)
        outcome, first = NO_DATA, None
        key = _SUBJECT[rule.scope]
        if limited is None and (key < 0 or uniform):
            vals = [v for v in col[lo:hi] if -_INF < v < _INF]
            if vals:
                threshold = effective_threshold(rule, facts)[0] if rule.scale_by else rule.threshold
                outcome = _subject_outcome(rule, threshold, vals, vals, vals[-1], vals[-1])
                first = next(times[i] for i in range(lo, hi) if -_INF < col[i] < _INF)
        else:
            groups: dict[str, list[Any]] = {}  # subject -> [clean values, all values, latest clean, latest]
            subjects = rooms if key == 2 else devices
            for i in range(lo, hi):
                v = col[i]
                if not -_INF < v < _INF:
                    continue
                if first is None:
                    first = times[i]
                g = groups.get("school" if key < 0 else subjects[i])
                if g is None:
                    g = groups["school" if key < 0 else subjects[i]] = [[], [], 0.0, 0.0]
                if limited is None or rule.metric not in limited[i]:
                    g[0].append(v)
                    g[2] = v
                g[1].append(v)
                g[3] = v
            if groups:
                threshold = effective_threshold(rule, facts)[0] if rule.scale_by else rule.threshold
                seen = {_subject_outcome(rule, threshold, *g) for g in groups.values()}
                outcome = FAILED if FAILED in seen else PASSED if PASSED in seen else NO_DATA
        outcomes.append(outcome)
        holds = None if first is None else to_datetime(first) + timedelta(days=rule.window_days)
        ahead = next((times[j] for j in range(hi, len(times)) if col[j] == col[j]), None)  # not absent
        if ahead is not None:
            enters = to_datetime(ahead) - _CLOCK_SKEW - _TICK
            holds = enters if holds is None else min(holds, enters)
        if holds is not None and (valid_until is None or holds < valid_until):
            valid_until = holds
    return Verdict(level=level_from(plan.rules, outcomes), outcomes=tuple(outcomes), valid_until=valid_until)
