"""The column judge: a school's verdict from its stored sample sets, taken as columns.

:func:`set_columns` takes a school's stored sets (collector/db/sample_sets.py)
without making a row per sample: each set's values for the plan's metrics at
once, in one ``struct`` call per set, as :class:`Columns`, which
:func:`judge_columns` judges, the sets' times bisected for each rule's window.
The sweep keeps each school's columns (collector/judge/kept.py), and the batch
judge judges many schools' at once (collector/judge/batch.py). Sets it cannot
take that way (a survey's values at their own times, a metric twice in a
layout) go to the row judge (collector/judge/rows.py).
"""

from __future__ import annotations

import json
import struct
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any, NamedTuple

from collector.judge.plan import NO_DATA, SKEW_US, Plan, Spec, Verdict
from collector.judge.rows import SetRow
from config.readiness import SchoolFacts, combine, effective_threshold, judge_subject

_NAN, _INF = float("nan"), float("inf")


class Taker(NamedTuple):
    """How to take the plan's metrics from a set of one layout.

    ``unpack`` gives, in one ``struct`` call, the values of the metrics the layout
    has, in the layout's order; ``order`` is, per metric of the plan, its index in
    that tuple or -1 when the layout lacks it; ``full`` gives every metric of the
    plan in the plan's order, NaN for one the layout lacks.
    """

    unpack: Callable[[bytes], tuple[float, ...]]
    order: tuple[int, ...]
    full: Callable[[bytes], tuple[float, ...]]


_TAKERS: dict[tuple[tuple[str, ...], str], Taker | None] = {}


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


class Columns(NamedTuple):
    """A school's stored sets as :func:`judge_columns` reads them (in time order, ties as stored).

    ``cols``: per metric of the plan, its value in each set (NaN where a set lacks
    it), or None when no set has it; ``rooms`` and ``devices``: each set's;
    ``limited``: per set, the metrics limited by the client (None: none at all).
    Kept per school by the sweep (collector/judge/kept.py).
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


class Series(NamedTuple):
    """One metric's finite values in time order, as the one-subject judge bisects them."""

    times: Sequence[int]
    values: Sequence[float]
    upto: int  # how many are taken by the plan's ``until``
    ahead: int | None  # the first time after ``until`` at which the metric has a value (finite or not)


def _series(times: Sequence[int], col: Sequence[float] | None, until: int) -> Series:
    """A metric's :class:`Series` from its column (NaN: absent from that set)."""
    if col is None:  # no set has the metric
        return Series((), (), 0, None)
    total = sum(col)
    if -_INF < total < _INF:  # every value finite (the usual case: nothing to filter)
        ts: Sequence[int] = times
        vals: Sequence[float] = col
        present: Sequence[int] = times
    elif col.count(_NAN) == len(col):  # the layout lacks the metric (the very NaN _taker puts)
        return Series((), (), 0, None)
    else:
        finite = [i for i, v in enumerate(col) if -_INF < v < _INF]
        present = [t for t, v in zip(times, col, strict=True) if v == v]
        ts, vals = [times[i] for i in finite], [col[i] for i in finite]
    j = bisect_right(present, until)
    return Series(ts, vals, bisect_right(ts, until), present[j] if j < len(present) else None)


# A rule's outcome, its first value's time, the next time ahead, and a school-wide rule's figure.
Judged = tuple[str, int | None, int | None, float | None]


def _threshold(spec: Spec, facts: SchoolFacts) -> float:
    return spec.threshold if spec.threshold is not None else effective_threshold(spec.rule, facts)[0]


def _one_subject(spec: Spec, series: Series, facts: SchoolFacts) -> Judged:
    """A rule whose values all belong to one subject, none limited by the client."""
    lo = bisect_left(series.times, spec.since, 0, series.upto)
    if series.upto <= lo:
        return NO_DATA, None, series.ahead, None
    values = series.values[lo : series.upto]
    judged = judge_subject(spec.rule, _threshold(spec, facts), values, values)
    return judged.outcome.value, series.times[lo], series.ahead, judged.value if spec.subject < 0 else None


def _by_subject(spec: Spec, columns: Columns, facts: SchoolFacts) -> Judged:
    """A rule whose values are grouped by room or device, some limited by the client, or counted only in
    its hours."""
    col = columns.cols[spec.metric]
    if col is None:
        return NO_DATA, None, None, None
    times, limited, metric, during = columns.times, columns.limited, spec.rule.metric, spec.during
    subjects = columns.rooms if spec.subject == 2 else columns.devices
    lo, hi = bisect_left(times, spec.since), bisect_right(times, spec.until)
    groups: dict[str, tuple[list[float], list[float]]] = {}  # subject -> (clean values, all values)
    first = None
    for i in range(lo, hi):
        v = col[i]
        if not -_INF < v < _INF or (during is not None and not during.covers_us(times[i])):
            continue
        if first is None:
            first = times[i]
        clean, every = groups.setdefault("school" if spec.subject < 0 else subjects[i], ([], []))
        if limited is None or metric not in limited[i]:
            clean.append(v)
        every.append(v)
    outcome, value = NO_DATA, None
    if groups:
        threshold = _threshold(spec, facts)
        judged = [judge_subject(spec.rule, threshold, c, e) for c, e in groups.values()]
        outcome = combine(j.outcome for j in judged).value
        value = judged[0].value if spec.subject < 0 else None
    ahead = next((times[j] for j in range(hi, len(times)) if col[j] == col[j]), None)  # not absent
    return outcome, first, ahead, value


def judge_columns(plan: Plan, columns: Columns, facts: SchoolFacts,
                  to_datetime: Callable[[Any], datetime]) -> Verdict:
    """A school's verdict from the :class:`Columns` of its sets."""
    uniform = len(set(columns.rooms)) <= 1 and len(set(columns.devices)) <= 1
    simple = columns.limited is None
    series: list[Series | None] = [None] * len(columns.cols)  # per metric (every window ends at ``until``)
    outcomes = []
    figures: dict[int, float | None] = {}
    valid_until: int | None = None
    for r, spec in enumerate(plan.specs):
        if simple and (spec.subject < 0 or uniform) and spec.during is None:
            ser = series[spec.metric]
            if ser is None:
                ser = series[spec.metric] = _series(columns.times, columns.cols[spec.metric], spec.until)
            outcome, first, ahead, figures[r] = _one_subject(spec, ser, facts)
        else:
            outcome, first, ahead, figures[r] = _by_subject(spec, columns, facts)
        outcomes.append(outcome)
        holds = None if first is None else first + spec.window_us
        if ahead is not None:
            enters = ahead - SKEW_US - 1
            holds = enters if holds is None else min(holds, enters)
        if holds is not None and (valid_until is None or holds < valid_until):
            valid_until = holds
    done = tuple(outcomes)
    return Verdict(level=plan.level(done), outcomes=done,
                   valid_until=None if valid_until is None else to_datetime(valid_until),
                   measured=plan.measured(figures))
