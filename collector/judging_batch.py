"""The judge for thousands of schools at once: :func:`collector.judging.judge_columns` on numpy arrays.

A full re-evaluation judges every school's kept columns (collector/school_columns.py).
In Python each rule of each school costs a few microseconds, and a district has
50,000 schools and 22 rules. Here a batch of schools is stacked into arrays, one
row per school (times padded with the largest int64, values with NaN), and each
rule is judged for the whole batch in a few array operations.

It gives exactly :func:`~collector.judging.judge_columns`' verdicts (tested on
random columns in tests/test_verdicts.py): the same IEEE operations in the same
order (a median is its two middle values' sum halved, a share ``100.0 × met /
count``, ``==`` is ``math.isclose``), and ``mean`` through ``math.fsum`` as
``statistics.fmean`` does. It takes the schools whose sets all come from one room
and device and were not limited by the client (what judge_columns judges on its
fast path); the others go through judge_columns.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from collector.judging import _SKEW_US, FAILED, NO_DATA, PASSED, Plan, Verdict, judge_columns
from collector.school_columns import decode
from config.profile import Aggregate
from config.readiness import _COMPARE, SchoolFacts, effective_threshold

_MAX = np.iinfo(np.int64).max
_CODES = (PASSED, FAILED, NO_DATA)
_PASS, _FAIL, _NONE = 0, 1, 2
Raw = tuple[int, bytes, bytes, bytes, str]  # a kept row: sets, times, present, vals, extra
BATCH = 4096  # schools stacked at once


def _compare(op: str, a: Any, b: Any) -> Any:
    """``config.readiness._COMPARE`` on arrays: its operators work on them as they are; ``==`` is
    ``math.isclose`` with its default tolerance."""
    if op != "==":
        return _COMPARE[op](a, b)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(b - a)
        near = (diff <= np.abs(1e-09 * b)) | (diff <= np.abs(1e-09 * a))
        return (a == b) | (np.isfinite(a) & np.isfinite(b) & near)


def batchable(extra: str) -> bool:
    """Whether a kept row's sets come from one room and device, none limited by the client."""
    more = json.loads(extra)
    return "room" in more and "limited" not in more


def _stack(raws: Sequence[Raw], width: int) -> tuple[Any, Any]:
    """Times [schools, sets] (padding: the largest int64) and values [schools, metrics, sets] (NaN).

    Schools with as many sets and the same metrics (most of a district) are
    joined and placed together.
    """
    n = max(r[0] for r in raws)
    times = np.full((len(raws), n), _MAX, dtype=np.int64)
    vals = np.full((len(raws), width, n), np.nan)
    groups: dict[tuple[int, bytes], list[int]] = {}
    for i, raw in enumerate(raws):
        groups.setdefault((raw[0], raw[2]), []).append(i)
    for (k, present), rows in groups.items():
        at = np.array(rows)
        times[at, :k] = np.frombuffer(b"".join([raws[i][1] for i in rows]), dtype="<i8").reshape(len(rows), k)
        which = np.frombuffer(present, dtype="<u2")
        if len(which):
            block = np.frombuffer(b"".join([raws[i][3] for i in rows]), dtype="<f8")
            vals[at[:, None], which[None, :], :k] = block.reshape(len(rows), len(which), k)
    return times, vals


def _take(a: Any, idx: Any) -> Any:
    return np.take_along_axis(a, idx[:, None], axis=1)[:, 0]


def judge_stacked(plan: Plan, times: Any, vals: Any, facts: Sequence[SchoolFacts]) -> tuple[Any, Any]:
    """Each school's outcome codes [schools, rules] and valid-until (µs; the largest int64: none)."""
    s = times.shape[0]
    codes = np.empty((s, len(plan.specs)), dtype=np.int8)
    valid = np.full(s, _MAX, dtype=np.int64)
    per_metric: dict[int, tuple[Any, Any, Any, Any]] = {}
    sorted_in: dict[tuple[int, int], Any] = {}
    thresholds: dict[str, Any] = {}
    for r, (rule, mi, _key, since, until, window_us, threshold, _test, min_samples) in enumerate(plan.specs):
        if mi not in per_metric:
            col = vals[:, mi, :]
            finite = np.isfinite(col)
            upto = times <= until
            ahead = np.where(~np.isnan(col) & ~upto, times, _MAX).min(axis=1)
            per_metric[mi] = (col, finite & upto, ahead, upto)
        col, usable, ahead, _ = per_metric[mi]
        inside = usable & (times >= since)
        count = inside.sum(axis=1)
        first = np.where(inside, times, _MAX).min(axis=1)
        has = count > 0
        if threshold is None:  # scaled per school
            if rule.id not in thresholds:
                thresholds[rule.id] = np.array([effective_threshold(rule, f)[0] for f in facts])
            limit: Any = thresholds[rule.id]
        else:
            limit = threshold
        kind = rule.aggregate
        with np.errstate(invalid="ignore", divide="ignore"):
            if kind is Aggregate.share:
                met = (inside & _compare(rule.comparison, col, limit if np.ndim(limit) == 0
                                         else limit[:, None])).sum(axis=1)
                assert rule.share_min_pct is not None
                ok = 100.0 * met / count >= rule.share_min_pct
            else:
                reduced = _reduce(kind, col, inside, count, (mi, since), sorted_in)
                ok = _compare(rule.comparison, reduced, limit)
        code = np.where(has & (count >= min_samples), np.where(ok, _PASS, _FAIL), _NONE)
        codes[:, r] = code
        holds = np.where(has, np.where(has, first, 0) + window_us, _MAX)
        enters = np.where(ahead != _MAX, np.where(ahead != _MAX, ahead, 0) - _SKEW_US - 1, _MAX)
        np.minimum(valid, np.minimum(holds, enters), out=valid)
    return codes, valid


def _reduce(kind: Aggregate, col: Any, inside: Any, count: Any, key: tuple[int, int],
            cache: dict[tuple[int, int], Any]) -> Any:
    """Each school's aggregate of its values inside the window (NaN where none)."""
    if kind is Aggregate.latest:  # the last inside, in time order
        last = inside.shape[1] - 1 - np.argmax(inside[:, ::-1], axis=1)
        return _take(col, last)
    if kind is Aggregate.mean:  # statistics.fmean: math.fsum, then divided
        return np.array([math.fsum(c[i]) / n if n else math.nan
                         for c, i, n in zip(col, inside, count.tolist(), strict=True)])
    ordered = cache.get(key)
    if ordered is None:
        ordered = cache[key] = np.sort(np.where(inside, col, np.nan), axis=1)  # NaN last
    top = np.maximum(count - 1, 0)
    if kind is Aggregate.min:
        return ordered[:, 0]
    if kind is Aggregate.max:
        return _take(ordered, top)
    if kind is Aggregate.median:
        half = np.minimum(count // 2, top)
        upper, lower = _take(ordered, half), _take(ordered, np.maximum(half - 1, 0))
        return np.where(count % 2 == 1, upper, (lower + upper) / 2)
    q = {Aggregate.p10: 0.10, Aggregate.p90: 0.90}[kind]
    rank = np.maximum(1, np.ceil(q * count)).astype(np.int64) - 1
    return _take(ordered, np.minimum(rank, top))


def judge_rows(plan: Plan, rows: Sequence[tuple[str, Raw]], facts: dict[str, SchoolFacts],
               to_datetime: Callable[[Any], datetime]) -> dict[str, Verdict]:
    """The verdicts of schools from their kept rows (collector/school_columns.py)."""
    out: dict[str, Verdict] = {}
    stack: list[tuple[str, Raw]] = []
    width = len(plan.metrics)
    for uai, raw in rows:
        if batchable(raw[4]):
            stack.append((uai, raw))
        else:
            out[uai] = judge_columns(plan, decode(raw, width), facts[uai], to_datetime)
    known: dict[bytes, tuple[tuple[str, ...], str]] = {}
    for start in range(0, len(stack), BATCH):
        part = stack[start : start + BATCH]
        times, vals = _stack([raw for _, raw in part], width)
        codes, valid = judge_stacked(plan, times, vals, [facts[u] for u, _ in part])
        for (uai, _), row, until in zip(part, codes, valid.tolist(), strict=True):
            key = row.tobytes()
            seen = known.get(key)
            if seen is None:
                outcomes = tuple(_CODES[c] for c in row.tolist())
                seen = known[key] = (outcomes, plan.level(outcomes))
            out[uai] = Verdict(level=seen[1], outcomes=seen[0],
                               valid_until=None if until == _MAX else to_datetime(until))
    return out
