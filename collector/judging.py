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

:func:`set_columns` takes stored sample sets (collector/sample_sets.py) without
making a row per sample: each set's values for the profile's metrics at once, as
:class:`Columns`, which :func:`judge_columns` judges, the sets' times bisected for
each rule's window (collector/judging_batch.py does the same for many schools at
once). Sets it cannot take that way (a survey's values at their own times, a
metric twice) go through :func:`judge_values`, as rows.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import struct
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any, NamedTuple

from collector.sample_sets import SURVEY_LEAD, expand, to_us
from config.profile import Aggregate, Gate, Profile, Rule, Scope
from config.readiness import _CLOCK_SKEW, _COMPARE, AGGREGATES, SchoolFacts, effective_threshold
from config.wire import Level, RuleOutcomeStatus

Row = tuple[float, Any, str, str, str | None]
PASSED, FAILED, NO_DATA = (RuleOutcomeStatus.passed.value, RuleOutcomeStatus.failed.value,
                           RuleOutcomeStatus.no_data.value)
_SUBJECT = {Scope.school: -1, Scope.room: 2, Scope.device: 3}  # index in a row; -1: the school
_TICK = timedelta(microseconds=1)


class Verdict(NamedTuple):
    """A school's level, its rules' outcomes (in profile order) and until when they hold.

    A tuple: a full re-evaluation sends tens of thousands between processes.
    """

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
    specs: tuple[Spec, ...] = ()  # per rule, what judge_columns needs at hand
    horizon: Any = None  # from when a set may hold a sample in a window (longest, less SURVEY_LEAD)
    levels: dict[tuple[str, ...], str] = field(default_factory=dict, compare=False)  # outcomes -> level

    def level(self, outcomes: tuple[str, ...]) -> str:
        """:func:`level_from` these outcomes (many schools share theirs: each is worked out once)."""
        level = self.levels.get(outcomes)
        if level is None:
            level = level_from(self.rules, outcomes)
            if len(self.levels) < 10_000:
                self.levels[outcomes] = level
        return level


class Spec(NamedTuple):
    """A rule as :func:`judge_columns` reads it."""

    rule: Rule
    metric: int  # index in Plan.metrics
    subject: int  # _SUBJECT[rule.scope]
    since: Any
    until: Any
    window_us: int
    threshold: float | None  # None: scaled per school
    test: Tester
    min_samples: int


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
    metrics = tuple(dict.fromkeys(r.metric for r in profile.rules))
    specs = tuple(Spec(rule, metrics.index(rule.metric), _SUBJECT[rule.scope], since, until,
                       rule.window_days * (timedelta(days=1) // _TICK),
                       None if rule.scale_by else rule.threshold, _tester(rule), rule.min_samples)
                  for rule, (since, until) in zip(profile.rules, bounds, strict=True))
    return Plan(rules=tuple(profile.rules), ids=tuple(r.id for r in profile.rules), now=now,
                bounds=tuple(bounds), windows=windows, profile_hash=profile_hash(profile),
                metrics=metrics, specs=specs,
                horizon=encode(now - max(windows.values(), default=timedelta(0)) - SURVEY_LEAD))


def _subject_outcome(rule: Rule, threshold: float, clean: list[float], every: list[float],
                     latest_clean: float, latest: float) -> str:
    """``_evidence``'s outcome for one subject (values in time order)."""
    if len(clean) >= rule.min_samples:
        return PASSED if _meets(rule, threshold, clean, latest_clean) else FAILED
    if len(every) >= rule.min_samples:
        return PASSED if _meets(rule, threshold, every, latest) else NO_DATA
    return NO_DATA


def _meets(rule: Rule, threshold: float, values: Sequence[float], latest: float) -> bool:
    """Whether ``values`` (time order; ``latest`` the last) meet the rule."""
    return _tester(rule)(values, threshold)


Tester = Callable[[Sequence[float], float], bool]


def _tester(rule: Rule) -> Tester:
    """The rule's test of a subject's values (time order, not empty) against a threshold."""
    compare = _COMPARE[rule.comparison]
    kind = rule.aggregate
    if kind is Aggregate.share:
        pct = rule.share_min_pct
        assert pct is not None
        return lambda values, threshold: 100.0 * sum(1 for v in values if compare(v, threshold)) \
            / len(values) >= pct
    if kind is Aggregate.latest:
        return lambda values, threshold: compare(float(values[-1]), threshold)
    reduce = AGGREGATES[kind]
    return lambda values, threshold: compare(reduce(values), threshold)


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
    done = tuple(outcomes)
    return Verdict(level=plan.level(done), outcomes=done, valid_until=valid_until)


# A stored set as read: (taken_us, room, device, layout digest, values, times, limited).
SetRow = tuple[int, str, str, str, bytes, bytes | None, str | None]
_NAN, _INF = float("nan"), float("inf")
_TAKERS: dict[tuple[tuple[str, ...], str], Taker | None] = {}
_SKEW_US = _CLOCK_SKEW // _TICK


class Taker(NamedTuple):
    """How to take the profile's metrics from a set of one layout.

    ``unpack`` gives, in one ``struct`` call, the values of the metrics the layout
    has, in the layout's order; ``order`` is, per metric of the plan, its index in
    that tuple or -1 when the layout lacks it; ``full`` gives every metric of the
    plan in the plan's order, NaN for one the layout lacks.
    """

    unpack: Callable[[bytes], tuple[float, ...]]
    order: tuple[int, ...]
    full: Callable[[bytes], tuple[float, ...]]


def _taker(metrics: tuple[str, ...], names: tuple[str, ...]) -> Taker | None:
    """The :class:`Taker` of layout ``names``; None when a name repeats in it."""
    if len(set(names)) != len(names):
        return None
    where = {m: i for i, m in enumerate(names)}
    present = sorted({where[m] for m in metrics if m in where})
    fmt, pos = "<", 0
    for p in present:  # skip what the profile does not read
        fmt += (f"{8 * (p - pos)}x" if p > pos else "") + "d"
        pos = p + 1
    unpack = struct.Struct(fmt).unpack_from
    slot = {p: k for k, p in enumerate(present)}
    order = tuple(slot[where[m]] if m in where else -1 for m in metrics)
    padded = [len(present) if k < 0 else k for k in order]
    if not metrics:
        return Taker(unpack, order, lambda _blob: ())
    pick = itemgetter(*padded) if len(padded) > 1 else (lambda t, i=padded[0]: (t[i],))
    return Taker(unpack, order, lambda blob: pick((*unpack(blob), _NAN)))


def _taker_for(plan: Plan, digest: str, names: dict[str, tuple[str, ...]]) -> Taker | None:
    key = (plan.metrics, digest)
    if key in _TAKERS:
        return _TAKERS[key]
    take = _taker(plan.metrics, names[digest])  # a dict that reads a layout it lacks (KeyError: unknown)
    if len(_TAKERS) < 10_000:
        _TAKERS[key] = take
    return take


def _as_rows(sets: Sequence[SetRow], names: dict[str, tuple[str, ...]],
             wanted: tuple[str, ...]) -> dict[str, list[Row]]:
    """Sets as :func:`judge`'s rows (the slow path), each metric's in time order (ties as stored)."""
    keep = frozenset(wanted)
    by_metric: dict[str, list[tuple[int, int, Row]]] = {}
    stored = itertools.count()
    for s in sets:
        for sample in expand(s[:7], names.get(s[3], ()), keep):
            at = to_us(sample.taken_at)
            by_metric.setdefault(sample.metric, []).append(
                (at, next(stored), (sample.value, at, sample.room, sample.device, sample.limited_by)))
    return {m: [row for _, _, row in sorted(rows)] for m, rows in by_metric.items()}


Series = tuple[Sequence[int], Sequence[float], int, int | None]


def _series(times: Sequence[int], col: Sequence[float] | None, until: int) -> Series:
    """A metric's times and values of its finite values, how many of them are taken by ``until``, and
    the first time after ``until`` at which it has a value (any, finite or not; NaN: absent)."""
    if col is None:  # no set has the metric
        return (), (), 0, None
    total = sum(col)
    if -_INF < total < _INF:  # every value finite (the usual case: nothing to filter)
        ts: Sequence[int] = times
        vals: Sequence[float] = col
        present: Sequence[int] = times
    elif col.count(_NAN) == len(col):  # the layout lacks the metric (the very NaN _taker puts)
        return (), (), 0, None
    else:
        finite = [i for i, v in enumerate(col) if -_INF < v < _INF]
        present = [t for t, v in zip(times, col, strict=True) if v == v]
        ts, vals = [times[i] for i in finite], [col[i] for i in finite]
    j = bisect_right(present, until)
    return ts, vals, bisect_right(ts, until), present[j] if j < len(present) else None


class Columns(NamedTuple):
    """A school's stored sets as :func:`judge_columns` reads them (in time order, ties as stored).

    ``cols``: per metric of the plan, its value in each set (NaN where a set lacks
    it), or None when no set has it; ``rooms`` and ``devices``: each set's;
    ``limited``: per set, the metrics limited by the client (None: none at all).
    Kept per school by the sweep (collector/school_columns.py).
    """

    times: Sequence[int]
    cols: list[Sequence[float] | None]
    rooms: Sequence[str]
    devices: Sequence[str]
    limited: list[set[str]] | None


def set_columns(plan: Plan, sets: Sequence[SetRow], names: dict[str, tuple[str, ...]]) -> Columns | None:
    """The :class:`Columns` of a school's stored sets in time order; None when a set must be read value
    by value (a survey's own times, a metric twice in a layout)."""
    times, rooms, devices, digests, blobs, own_times, limits = list(zip(*sets, strict=False))[:7]
    if any(own_times):
        return None
    layouts = set(digests)
    cols: list[Sequence[float] | None]
    if len(layouts) == 1:  # one layout (one agent version): the columns of what it has
        take = _taker_for(plan, digests[0], names)
        if take is None:
            return None
        have = list(zip(*map(take.unpack, blobs), strict=True))
        cols = [None if k < 0 else have[k] for k in take.order]
    else:  # several: every metric of the plan from each, NaN where a layout lacks it
        takers = {d: _taker_for(plan, d, names) for d in layouts}
        if None in takers.values():
            return None
        rows = [takers[d].full(b) for d, b in zip(digests, blobs, strict=True)]  # type: ignore[union-attr]
        cols = list(zip(*rows, strict=True))
    limited: list[set[str]] | None = None
    if any(limits):
        limited = [{names[d][int(k)] for k in json.loads(lim)} if lim else set()
                   for d, lim in zip(digests, limits, strict=True)]
    return Columns(times, cols, rooms, devices, limited)


def judge_values(plan: Plan, sets: Sequence[SetRow], names: dict[str, tuple[str, ...]],
                 facts: SchoolFacts, to_datetime: Callable[[Any], datetime]) -> Verdict:
    """A school's verdict from its stored sets read value by value (sets :func:`set_columns` cannot take)."""
    return judge(plan, _as_rows(sets, names, plan.metrics), facts, to_datetime)


def judge_columns(plan: Plan, columns: Columns, facts: SchoolFacts,
                  to_datetime: Callable[[Any], datetime]) -> Verdict:
    """A school's verdict from the :class:`Columns` of its sets."""
    times, cols, rooms, devices, limited = columns
    uniform = len(set(rooms)) <= 1 and len(set(devices)) <= 1
    simple = limited is None
    series: list[Series | None] = [None] * len(cols)  # per metric (every rule's window ends at ``until``)
    outcomes = []
    valid_until: int | None = None
    for rule, mi, key, since, until, window_us, threshold, test, min_samples in plan.specs:
        first: int | None = None
        outcome = NO_DATA
        if simple and (key < 0 or uniform):
            ser = series[mi]
            if ser is None:
                ser = series[mi] = _series(times, cols[mi], until)
            ts, vals, hi, ahead = ser
            lo = bisect_left(ts, since, 0, hi)
            if hi > lo:
                if hi - lo >= min_samples:
                    if threshold is None:
                        threshold = effective_threshold(rule, facts)[0]
                    outcome = PASSED if test(vals[lo:hi], threshold) else FAILED
                first = ts[lo]
        elif cols[mi] is None:
            ahead = None
        else:
            col = cols[mi]
            assert col is not None
            lo, hi = bisect_left(times, since), bisect_right(times, until)
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
                if threshold is None:
                    threshold = effective_threshold(rule, facts)[0]
                seen = {_subject_outcome(rule, threshold, *g) for g in groups.values()}
                outcome = FAILED if FAILED in seen else PASSED if PASSED in seen else NO_DATA
            ahead = next((times[j] for j in range(hi, len(times)) if col[j] == col[j]), None)  # not absent
        outcomes.append(outcome)
        holds = None if first is None else first + window_us
        if ahead is not None:
            enters = ahead - _SKEW_US - 1
            holds = enters if holds is None else min(holds, enters)
        if holds is not None and (valid_until is None or holds < valid_until):
            valid_until = holds
    done = tuple(outcomes)
    return Verdict(level=plan.level(done), outcomes=done,
                   valid_until=None if valid_until is None else to_datetime(valid_until))
