"""The batch judge: :func:`collector.judge.columns.judge_columns` for thousands of schools at once.

A full re-evaluation judges every school's kept columns (collector/judge/kept.py).
In Python each rule of each school costs a few microseconds, and a district has
50,000 schools and 22 rules. Here a batch of schools is stacked into arrays, one
row per school (times padded with the largest int64, values with NaN), and each
rule is judged for the whole batch in a few array operations, with the stacked
form of its aggregate and comparison (config/aggregates.py).

It gives exactly judge_columns' verdicts (tested on random columns for every
aggregate and comparison). It takes the schools whose sets all come from one
room and device and were not limited by the client: each rule has one subject
then, whose outcome (config.readiness.judge_subject) is pass or fail by the
figure when it has enough values, else no data. The others go through
judge_columns.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from collector.judge.columns import judge_columns
from collector.judge.kept import decode
from collector.judge.plan import FAILED, NO_DATA, PASSED, SKEW_US, Measured, Plan, Verdict
from config.aggregates import Stack, figure_stacked, passes_stacked
from config.readiness import SchoolFacts, effective_threshold

_MAX = np.iinfo(np.int64).max
_CODES = (PASSED, FAILED, NO_DATA)
_PASS, _FAIL, _NONE = 0, 1, 2
Raw = tuple[int, bytes, bytes, bytes, str]  # a kept row: sets, times, present, vals, extra
BATCH = 4096  # schools stacked at once


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


def judge_stacked(plan: Plan, times: Any, vals: Any,
                  facts: Sequence[SchoolFacts]) -> tuple[Any, Any, dict[int, Any]]:
    """Each school's outcome codes [schools, rules], valid-until (µs; the largest int64: none) and the
    figures of the plan's kept rules (rule index -> [schools], NaN: too few values)."""
    s = times.shape[0]
    codes = np.empty((s, len(plan.specs)), dtype=np.int8)
    figures: dict[int, Any] = {}
    valid = np.full(s, _MAX, dtype=np.int64)
    per_metric: dict[int, tuple[Any, Any, Any]] = {}  # metric -> its values, those usable, next time ahead
    stacks: dict[tuple[int, Any, Any], Stack] = {}  # (metric, since, hours) -> its window's values
    thresholds: dict[str, Any] = {}
    for r, spec in enumerate(plan.specs):
        rule, mi = spec.rule, spec.metric
        if mi not in per_metric:
            col = vals[:, mi, :]
            upto = times <= spec.until
            ahead = np.where(~np.isnan(col) & ~upto, times, _MAX).min(axis=1)
            per_metric[mi] = (col, np.isfinite(col) & upto, ahead)
        col, usable, ahead = per_metric[mi]
        key = (mi, spec.since, None if spec.during is None else (rule.hours, rule.timezone))
        stack = stacks.get(key)
        if stack is None:
            inside = usable & (times >= spec.since)
            if spec.during is not None:
                inside &= spec.during.covers_stacked(times, inside)
            stack = stacks[key] = Stack(col, inside, inside.sum(axis=1))
        if spec.threshold is None:  # scaled per school
            if rule.id not in thresholds:
                thresholds[rule.id] = np.array([effective_threshold(rule, f)[0] for f in facts])
            limit: Any = thresholds[rule.id]
        else:
            limit = spec.threshold
        with np.errstate(invalid="ignore", divide="ignore"):
            fig = figure_stacked(rule, stack, limit)
            ok = passes_stacked(rule, fig, limit)
        has = stack.count > 0
        enough = has & (stack.count >= spec.min_samples)
        codes[:, r] = np.where(enough, np.where(ok, _PASS, _FAIL), _NONE)
        if r in plan.kept:
            figures[r] = np.where(enough, fig, np.nan)
        first = np.where(stack.inside, times, _MAX).min(axis=1)
        holds = np.where(has, np.where(has, first, 0) + spec.window_us, _MAX)
        enters = np.where(ahead != _MAX, np.where(ahead != _MAX, ahead, 0) - SKEW_US - 1, _MAX)
        np.minimum(valid, np.minimum(holds, enters), out=valid)
    return codes, valid, figures


def _measured(plan: Plan, figures: dict[int, Any], n: int) -> list[Measured]:
    """Each school's :class:`~collector.judge.plan.Verdict` ``measured``, from the kept rules' figures."""
    per_gate: list[list[tuple[int, float] | None]] = []
    for gate in plan.gates:
        if not gate:
            per_gate.append([None] * n)
            continue
        block = np.stack([figures[r] for r in gate])  # [rules of the gate, schools]
        found = ~np.isnan(block)
        first = found.argmax(axis=0)
        value = block[first, np.arange(n)]
        per_gate.append([(gate[k], v) if ok else None
                         for k, v, ok in zip(first.tolist(), value.tolist(), found.any(axis=0).tolist(),
                                             strict=True)])
    return list(zip(*per_gate, strict=True)) if per_gate else [()] * n


def judge_rows(plan: Plan, rows: Sequence[tuple[str, Raw]], facts: dict[str, SchoolFacts],
               to_datetime: Callable[[Any], datetime]) -> dict[str, Verdict]:
    """The verdicts of schools from their kept rows (collector/judge/kept.py)."""
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
        codes, valid, figures = judge_stacked(plan, times, vals, [facts[u] for u, _ in part])
        measured = _measured(plan, figures, len(part))
        for (uai, _), row, until, kept in zip(part, codes, valid.tolist(), measured, strict=True):
            key = row.tobytes()
            seen = known.get(key)
            if seen is None:
                outcomes = tuple(_CODES[c] for c in row.tolist())
                seen = known[key] = (outcomes, plan.level(outcomes))
            out[uai] = Verdict(level=seen[1], outcomes=seen[0],
                               valid_until=None if until == _MAX else to_datetime(until), measured=kept)
    return out
