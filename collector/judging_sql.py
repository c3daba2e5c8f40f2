"""Judging every school with the aggregation done by the database: one row per school and subject.

The same outcomes and ``valid_until`` as :func:`collector.judging.judge` (and so
as ``config.readiness.evaluate``), proved on random data by tests/test_verdicts.py
on SQLite and PostgreSQL. Instead of reading every sample into Python, each
group of rules sharing a metric, a window and a scope is one grouped query that
returns, per school and subject: the counts of all and of clean samples, the
first and last sample times, min and max, share counts against each share
rule's (possibly per-pupil) threshold, and the latest value of all and of clean
samples (an index seek on the last time; ties: the last stored); and, when a
rule needs them, one ranked query (window functions) returning only the middle
rows (median) and the nearest-rank rows (p10, p90), of all samples and of the
clean ones. Python then decides each subject exactly as ``_evidence`` does.

Measured (docs/benchmarks.md): on SQLite this is no faster than the Python path
(each group's grouped scan costs about as much as reading its rows), so
:func:`collector.verdicts.judge_schools` uses it where it was measured faster.

``mean`` is not done here (SQL sums are not correctly rounded like
``statistics.fmean``): rules using it are judged by the Python path on their
metrics' rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text

from collector.judging import FAILED, NO_DATA, PASSED, Plan, Verdict, level_from, make_plan
from config.profile import Aggregate, Profile, Rule, Scope
from config.readiness import _CLOCK_SKEW, _COMPARE, SchoolFacts, effective_threshold

_TICK = timedelta(microseconds=1)
_RANKED = (Aggregate.median, Aggregate.p10, Aggregate.p90)
_SQL_CMP = {">=": ">=", ">": ">", "<=": "<=", "<": "<"}
_SUBJECT = {Scope.school: "'school'", Scope.room: "m.room", Scope.device: "m.device"}
_Q = {Aggregate.p10: 0.10, Aggregate.p90: 0.90}


def covers(rule: Rule) -> bool:
    """Whether this module judges ``rule`` (``mean`` goes to the Python path)."""
    return rule.aggregate is not Aggregate.mean


@dataclass
class _Stats:
    """One subject's figures for one group of rules: index 0 all samples, 1 clean ones."""

    n: list[int]
    lo: list[float | None]
    hi: list[float | None]
    shares: dict[int, list[int]]  # share rule's index in the profile -> [met among all, met among clean]
    ranked: list[dict[int, float]]  # rank -> value, of all / of clean samples (by value)
    latest: list[float | None]


def _threshold_sql(rule: Rule, p: str) -> str:
    """The effective threshold as SQL, per school when the rule scales (``s``: the schools row)."""
    if rule.scale_by is None:
        return f":{p}thr"
    people = "s.pupils" if rule.scale_by == "pupils" else "(s.pupils + COALESCE(s.staff, 0))"
    return (f"(CASE WHEN s.pupils IS NULL THEN :{p}thr WHEN :{p}spp * {people} > :{p}thr "
            f"THEN :{p}spp * {people} ELSE :{p}thr END)")


def _meets_sql(rule: Rule, p: str) -> str:
    thr = _threshold_sql(rule, p)
    if rule.comparison == "==":  # math.isclose(value, threshold) with its default rel_tol
        return (f"(m.value = {thr} OR abs({thr} - m.value) <= abs(:rel_tol * {thr}) "
                f"OR abs({thr} - m.value) <= abs(:rel_tol * m.value))")
    return f"m.value {_SQL_CMP[rule.comparison]} {thr}"


def _where(span: tuple[str, str] | None) -> str:
    where = ("m.metric = :metric AND m.taken_at >= :since AND m.taken_at <= :until "
             "AND m.value > :neg_inf AND m.value < :pos_inf")
    return where + (" AND m.school_uai BETWEEN :lo_uai AND :hi_uai" if span else "")


def _aggregate_query(rules: list[tuple[int, Rule]], subject: str, span: tuple[str, str] | None,
                     params: dict[str, Any]) -> tuple[str, list[int]]:
    """The grouped query of one group of rules, and the share rules' indexes in its column order."""
    clean = "m.limited_by IS NULL"
    cols = [f"m.school_uai, {subject} AS subj", "COUNT(*)", f"SUM(CASE WHEN {clean} THEN 1 ELSE 0 END)",
            "MIN(m.taken_at)", "MIN(m.value)", f"MIN(CASE WHEN {clean} THEN m.value END)",
            "MAX(m.value)", f"MAX(CASE WHEN {clean} THEN m.value END)"]
    shares = []
    join = ""
    for i, rule in rules:
        if rule.aggregate is not Aggregate.share:
            continue
        p = f"r{i}_"
        params[f"{p}thr"] = rule.threshold
        if rule.scale_by is not None:
            params[f"{p}spp"] = rule.scale_per_person
            join = " JOIN schools s ON s.uai = m.school_uai"
        met = _meets_sql(rule, p)
        cols += [f"SUM(CASE WHEN {met} THEN 1 ELSE 0 END)",
                 f"SUM(CASE WHEN {clean} AND {met} THEN 1 ELSE 0 END)"]
        shares.append(i)
    group = "m.school_uai" if subject == "'school'" else f"m.school_uai, {subject}"
    latest = any(r.aggregate is Aggregate.latest for _, r in rules)
    if latest:
        cols += ["MAX(m.taken_at)", f"MAX(CASE WHEN {clean} THEN m.taken_at END)"]
    named = ", ".join(f"{c} AS c{k}" for k, c in enumerate(cols[1:], 2))
    sql = (f"SELECT m.school_uai AS c0, {subject} AS c1, {named} FROM measurements m{join} "
           f"WHERE {_where(span)} GROUP BY {group}")
    if latest:  # the latest row of all and of clean samples: one index seek each (ties: the last stored)
        last, last_clean = len(cols) - 1, len(cols)
        same = "" if subject == "'school'" else f" AND x.{subject[2:]} = g.c1"
        pick = ("(SELECT x.value FROM measurements x WHERE x.metric = :metric AND x.school_uai = g.c0"
                f"{same} AND x.taken_at = g.c{{}} AND x.value > :neg_inf AND x.value < :pos_inf{{}} "
                "ORDER BY x.id DESC LIMIT 1)")
        sql = (f"SELECT g.*, {pick.format(last, '')}, "
               f"{pick.format(last_clean, ' AND x.limited_by IS NULL')} FROM ({sql}) g")
    return sql, shares


def _ranked_query(subject: str, span: tuple[str, str] | None, ranks: set[Aggregate],
                  params: dict[str, Any]) -> str:
    """Only the rows a median, p10 or p90 needs, of all samples and of clean ones.

    Each row: school, subject, clean (1/0), value, its rank by value among all the
    subject's samples, and its rank among those of the same cleanliness.
    """
    part = f"m.school_uai, {subject}"
    clean = "(CASE WHEN m.limited_by IS NULL THEN 1 ELSE 0 END)"
    inner = (f"SELECT m.school_uai AS uai, {subject} AS subj, {clean} AS clean, m.value AS value, "
             f"ROW_NUMBER() OVER (PARTITION BY {part} ORDER BY m.value) AS ra, "
             f"COUNT(*) OVER (PARTITION BY {part}) AS na, "
             f"ROW_NUMBER() OVER (PARTITION BY {part}, {clean} ORDER BY m.value) AS rc, "
             f"COUNT(*) OVER (PARTITION BY {part}, {clean}) AS nc "
             f"FROM measurements m WHERE {_where(span)}")
    wanted = []
    for kind in sorted(ranks):
        for r, n in (("ra", "na"), ("rc", "nc")):
            if kind is Aggregate.median:  # the middle one, or the two middle ones
                wanted.append(f"2 * {r} IN ({n}, {n} + 1, {n} + 2)")
            else:  # nearest rank: the r with r - 1 < q n <= r, q n in the same float arithmetic as Python
                q = f"q{int(_Q[kind] * 100)}"
                params[q] = _Q[kind]
                wanted.append(f"({r} >= :{q} * {n} AND {r} - 1 < :{q} * {n})")
    return f"SELECT uai, subj, clean, value, ra, rc FROM ({inner}) t WHERE {' OR '.join(wanted)}"


def _nearest(q: float, n: int) -> int:
    return max(1, math.ceil(q * n))


def _value(rule: Rule, st: _Stats, k: int) -> float | None:
    """The aggregate of all (k=0) or clean (k=1) samples; None for share."""
    kind = rule.aggregate
    if kind is Aggregate.min:
        return st.lo[k]
    if kind is Aggregate.max:
        return st.hi[k]
    if kind is Aggregate.latest:
        return st.latest[k]
    n = st.n[k]
    if kind is Aggregate.median:
        if n % 2:
            return float(st.ranked[k][n // 2 + 1])
        return float((st.ranked[k][n // 2] + st.ranked[k][n // 2 + 1]) / 2)
    return st.ranked[k][_nearest(_Q[kind], n)]


def _meets(i: int, rule: Rule, threshold: float, st: _Stats, k: int) -> bool:
    if rule.aggregate is Aggregate.share:
        assert rule.share_min_pct is not None
        return 100.0 * st.shares[i][k] / st.n[k] >= rule.share_min_pct
    value = _value(rule, st, k)
    assert value is not None
    return _COMPARE[rule.comparison](float(value), threshold)


def _outcome(i: int, rule: Rule, threshold: float, st: _Stats) -> str:
    """``_evidence``'s outcome for one subject."""
    if st.n[1] >= rule.min_samples:
        return PASSED if _meets(i, rule, threshold, st, 1) else FAILED
    if st.n[0] >= rule.min_samples:
        return PASSED if _meets(i, rule, threshold, st, 0) else NO_DATA
    return NO_DATA


def _group_stats(conn: Connection, rules: list[tuple[int, Rule]], bounds: tuple[Any, Any],
                 span: tuple[str, str] | None) -> tuple[dict[tuple[str, str], _Stats], dict[str, Any]]:
    """Per (school, subject) figures of one group of rules, and each school's first sample time."""
    first_rule = rules[0][1]
    subject = _SUBJECT[first_rule.scope]
    params: dict[str, Any] = {"metric": first_rule.metric, "since": bounds[0], "until": bounds[1],
                              "neg_inf": -math.inf, "pos_inf": math.inf, "rel_tol": 1e-9}
    if span:
        params["lo_uai"], params["hi_uai"] = span
    sql, share_ix = _aggregate_query(rules, subject, span, params)
    has_latest = any(r.aggregate is Aggregate.latest for _, r in rules)
    stats: dict[tuple[str, str], _Stats] = {}
    first: dict[str, Any] = {}
    for row in conn.execute(text(sql), params):
        uai, subj, n_all, n_clean, t0, lo, lo_c, hi, hi_c = row[:9]
        shares = {i: [row[9 + 2 * j], row[10 + 2 * j]] for j, i in enumerate(share_ix)}
        latest = [row[-2], row[-1]] if has_latest else [None, None]
        stats[(uai, subj)] = _Stats([n_all, n_clean], [lo, lo_c], [hi, hi_c], shares, [{}, {}], latest)
        if uai not in first or t0 < first[uai]:
            first[uai] = t0
    ranks = {r.aggregate for _, r in rules if r.aggregate in _RANKED}
    if ranks:
        for uai, subj, clean, value, ra, rc in conn.execute(text(_ranked_query(subject, span, ranks, params)),
                                                              params):
            st = stats[(uai, subj)]
            st.ranked[0][ra] = value
            if clean:
                st.ranked[1][rc] = value
    return stats, first


def _ahead(conn: Connection, metrics: Sequence[str], until: Any,
           span: tuple[str, str] | None) -> dict[tuple[str, str], Any]:
    """(school, metric) -> the earliest sample dated after the window's end (clock skew included)."""
    if not metrics:
        return {}
    params: dict[str, Any] = {"until": until}
    names = []
    for i, metric in enumerate(sorted(metrics)):
        params[f"m{i}"] = metric
        names.append(f":m{i}")
    where = f"m.metric IN ({', '.join(names)}) AND m.taken_at > :until"
    if span:
        where += " AND m.school_uai BETWEEN :lo_uai AND :hi_uai"
        params["lo_uai"], params["hi_uai"] = span
    sql = f"SELECT m.school_uai, m.metric, MIN(m.taken_at) FROM measurements m WHERE {where} " \
          "GROUP BY m.school_uai, m.metric"
    return {(u, metric): t for u, metric, t in conn.execute(text(sql), params)}


def judge_all(conn: Connection, profile: Profile, now: datetime, facts: dict[str, SchoolFacts],
              encode: Callable[[datetime], Any], decode: Callable[[Any], datetime],
              span: tuple[str, str] | None = None) -> dict[str, Verdict]:
    """The verdict of every school in ``facts`` (all of them, or those in ``span``); ``mean`` rules excluded.

    Rules not :func:`covers`-ed get ``no_data`` here: the caller judges them
    apart and merges (collector/verdicts.py).
    """
    plan: Plan = make_plan(profile, now, encode)
    groups: dict[tuple[str, int, Scope], list[tuple[int, Rule]]] = {}
    for i, rule in enumerate(plan.rules):
        if covers(rule):
            groups.setdefault((rule.metric, rule.window_days, rule.scope), []).append((i, rule))
    n_rules = len(plan.rules)
    outcomes: dict[str, list[str]] = {}
    until_of: dict[str, datetime] = {}
    metrics = {rule.metric for rule in plan.rules if covers(rule)}
    ahead = _ahead(conn, sorted(metrics), plan.bounds[0][1], span)
    for (_metric, window_days, _scope), rules in groups.items():
        stats, first = _group_stats(conn, rules, plan.bounds[rules[0][0]], span)
        window = timedelta(days=window_days)
        for uai, t0 in first.items():
            holds = decode(t0) + window
            if uai not in until_of or holds < until_of[uai]:
                until_of[uai] = holds
        by_school: dict[str, list[_Stats]] = {}
        for (uai, _subj), st in stats.items():
            by_school.setdefault(uai, []).append(st)
        for uai, subjects in by_school.items():
            f = facts.get(uai)
            if f is None:
                continue
            row = outcomes.get(uai)
            if row is None:
                row = outcomes[uai] = [NO_DATA] * n_rules
            for i, rule in rules:
                threshold = effective_threshold(rule, f)[0] if rule.scale_by else rule.threshold
                seen = {_outcome(i, rule, threshold, st) for st in subjects}
                row[i] = FAILED if FAILED in seen else PASSED if PASSED in seen else NO_DATA
    for (uai, _metric), t in ahead.items():  # a sample dated ahead enters its window then
        enters = decode(t) - _CLOCK_SKEW - _TICK
        if uai not in until_of or enters < until_of[uai]:
            until_of[uai] = enters
    out = {}
    for uai in facts:
        row = outcomes.get(uai) or [NO_DATA] * n_rules
        out[uai] = Verdict(level=level_from(plan.rules, row), outcomes=tuple(row),
                           valid_until=until_of.get(uai))
    return out
