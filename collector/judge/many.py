"""Judging many schools at once: from the columns the sweep kept, else from their sample sets.

A school is judged from the columns the sweep kept for it (collector/judge/kept.py)
while they hold every set needed; otherwise from its sample sets in the rules'
windows, read in one streaming query ordered by school (most schools) or per
batch of schools, and made into columns. Columns are judged many schools at
once (collector/judge/batch.py); sets that cannot be made into columns are
judged value by value (collector/judge/rows.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Table, select

from collector.db.models import SampleSetRow, School
from collector.db.sample_sets import READ_COLUMNS, all_layouts, from_us, layouts, to_us
from collector.db.streaming import stream
from collector.judge import batch, kept
from collector.judge.columns import set_columns
from collector.judge.kept import Keeper
from collector.judge.plan import Plan, Verdict, make_plan
from collector.judge.rows import judge, judge_values
from config.profile import Profile
from config.readiness import SchoolFacts

BATCH = 500  # schools per IN (...) query
_SS: Table = SampleSetRow.__table__  # type: ignore[assignment]
_S: Table = School.__table__  # type: ignore[assignment]
_SCHOOL = len(READ_COLUMNS)  # where a set's school is in the rows read


def _sets(conn: Connection, plan: Plan, uais: Sequence[str] | None,
          span: tuple[str, str] | None = None) -> Iterator[tuple[str, Any]]:
    """(school, its sample sets in time order) for ``uais`` (all when None, or those in ``span``), only
    the sets from the plan's ``horizon`` on: all of them in one read through the driver's own cursor
    (collector/db/streaming.py), or some schools per query."""
    since = plan.horizon
    if uais is None:
        columns = ", ".join(c.name for c in (*READ_COLUMNS, _SS.c.school_uai))
        sql = (f"SELECT {columns} FROM {_SS.name} WHERE taken_us >= ?"
               + (" AND school_uai BETWEEN ? AND ?" if span else "") + " ORDER BY school_uai, taken_us, id")
        rows = stream(conn, sql, (since, *span) if span else (since,), "socle_judge_sets")
        yield from itertools.groupby(rows, key=itemgetter(_SCHOOL))
        return
    query = select(*READ_COLUMNS, _SS.c.school_uai).order_by(_SS.c.school_uai, _SS.c.taken_us, _SS.c.id)
    for i in range(0, len(uais), BATCH):
        result = conn.execute(query.where(_SS.c.school_uai.in_(uais[i : i + BATCH]), _SS.c.taken_us >= since))
        yield from itertools.groupby(result, key=itemgetter(_SCHOOL))


class _Layouts(dict[str, tuple[str, ...]]):
    """Every stored layout, and one stored since (by another process's ingest) read when first asked."""

    def __init__(self, conn: Connection) -> None:
        super().__init__(all_layouts(conn))
        self.conn = conn

    def __missing__(self, digest: str) -> tuple[str, ...]:
        found = layouts(self.conn, [digest])
        if digest not in found:
            raise KeyError(digest)
        self[digest] = found[digest]
        return found[digest]


def school_facts(conn: Connection, uais: Sequence[str] | None,
                 span: tuple[str, str] | None = None) -> dict[str, SchoolFacts]:
    """What the rules scale with, for ``uais`` (every school when None, or those in ``span``)."""
    query = select(_S.c.uai, _S.c.pupils, _S.c.staff)
    if uais is None:
        query = query if span is None else query.where(_S.c.uai.between(*span))
        return {u: SchoolFacts(p, s) for u, p, s in conn.execute(query)}
    facts = {}
    for i in range(0, len(uais), BATCH):
        facts.update({u: SchoolFacts(p, s) for u, p, s in
                      conn.execute(query.where(_S.c.uai.in_(uais[i : i + BATCH])))})
    return facts


def _from_sets(conn: Connection, plan: Plan, facts: dict[str, SchoolFacts], rest: list[str],
               whole: bool, span: tuple[str, str] | None, keeper: Keeper | None) -> dict[str, Verdict]:
    """The verdicts of the schools ``rest`` from their sets (``whole``: read every school's at once)."""
    out: dict[str, Verdict] = {}
    names = _Layouts(conn)
    made: list[tuple[str, kept.Encoded]] = []
    wanted = set(rest)
    for uai, rows in _sets(conn, plan, None if whole else rest, span):
        if uai not in wanted:
            continue
        sets = list(rows)
        columns = set_columns(plan, sets, names)
        if columns is None:  # a survey's own times, or a metric twice in a set: value by value
            out[uai] = judge_values(plan, sets, names, facts[uai], from_us)
            continue
        encoded = kept.encode(columns)
        if keeper is not None:
            keeper.keep(uai, encoded)
        made.append((uai, encoded))
        if len(made) >= batch.BATCH:
            out.update(batch.judge_rows(plan, made, facts, from_us))
            made = []
    out.update(batch.judge_rows(plan, made, facts, from_us))
    return out


def judge_schools(conn: Connection, profile: Profile, now: datetime, uais: Sequence[str] | None = None,
                  span: tuple[str, str] | None = None, keeper: Keeper | None = None,
                  use_kept: bool = True) -> dict[str, Verdict]:
    """Judge ``uais`` (every school when None, or those from ``span[0]`` to ``span[1]``): from their kept
    columns (unless not ``use_kept``), else from their sets (their columns handed to ``keeper``)."""
    plan = make_plan(profile, now, to_us)
    facts = school_facts(conn, uais, span)
    out: dict[str, Verdict] = {}
    if use_kept:
        rows = kept.kept(conn, plan, None if uais is None else sorted(facts), span)
        while chunk := list(itertools.islice(rows, batch.BATCH)):
            out.update(batch.judge_rows(plan, [(u, r) for u, r in chunk if u in facts], facts, from_us))
    rest = sorted(u for u in facts if u not in out)
    if rest:
        whole = uais is None and len(rest) > len(facts) // 2  # most schools: one streaming read
        out.update(_from_sets(conn, plan, facts, rest, whole, span, keeper))
    for uai, f in facts.items():  # no sample in any window
        if uai not in out:
            out[uai] = judge(plan, {}, f, from_us)
    return out
