"""Stored verdicts: each school's level and failing rules, kept in the database for every process.

Ingest counts the report against the school (:func:`note_report`, one upsert);
the verdict is then out of date until it is judged again. A verdict is also out
of date when its ``valid_until`` has passed (a sample used left its window), when
the profile changed, or when the school's pupil or staff count changed.
:func:`verdict_table` (the overview, the list, the exports) judges again the out
of date ones it is asked for before answering; :func:`collector.sweep.sweep` does it for all
(``socle-collector evaluate`` and the sweep in collector/sweep.py).

Judging many schools reads their sample sets (collector/sample_sets.py) in one
streaming query ordered by school, only within the rules' longest window, then
runs the lean :func:`collector.judging.judge_sets` (the same outcomes as
``config.readiness.evaluate``).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, and_, func, or_, select, update
from sqlalchemy.sql.dml import Insert

from collector.judging import Plan, Verdict, judge, judge_sets, make_plan
from collector.models import AgentRow, SampleSetRow, School, SchoolVerdict
from collector.sample_sets import READ_COLUMNS, all_layouts, from_us, layouts, to_us
from config.profile import Profile
from config.readiness import SchoolFacts
from config.wire import Level

log = logging.getLogger("socle.collector.verdicts")

BATCH = 500  # schools per IN (...) query
_V: Table = SchoolVerdict.__table__  # type: ignore[assignment]
_SS: Table = SampleSetRow.__table__  # type: ignore[assignment]
_S: Table = School.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class Stored:
    """A school's stored verdict as the lists show it."""

    level: str
    failing: tuple[str, ...]


NO_VERDICT = Stored(level=Level.no_data.value, failing=())


def _insert(conn: Connection) -> Any:
    name = conn.dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert
    return None


def note_report(conn: Connection, uai: str) -> None:
    """Count a stored report against its school: its verdict is out of date (one upsert)."""
    ins = _insert(conn)
    if ins is None:  # another database: an update, or an insert the first time
        if conn.execute(update(_V).where(_V.c.school_uai == uai)
                        .values(reports=_V.c.reports + 1)).rowcount == 0:
            conn.execute(_V.insert().values(school_uai=uai, level=Level.no_data.value, failing=[],
                                            outcomes={}, profile_hash="", reports=1, judged_reports=0))
        return
    stmt: Insert = ins(_V).values(school_uai=uai, level=Level.no_data.value, failing=[], outcomes={},
                                  profile_hash="", reports=1, judged_reports=0)
    conn.execute(stmt.on_conflict_do_update(index_elements=[_V.c.school_uai],  # type: ignore[attr-defined]
                                            set_={"reports": _V.c.reports + 1}))


def _sets(conn: Connection, plan: Plan, uais: Sequence[str] | None,
          span: tuple[str, str] | None = None) -> Iterator[tuple[str, Any]]:
    """(school, its sample sets in time order) for ``uais`` (all when None, or those in ``span``).

    Only sets that may hold a sample in a rule's window: from the longest window
    (less a day, for a survey's readings dated before their report) on.
    """
    since = to_us(plan.now - max(plan.windows.values(), default=timedelta(0)) - timedelta(days=1))
    cols = (*READ_COLUMNS, _SS.c.school_uai)
    order = (_SS.c.school_uai, _SS.c.taken_us, _SS.c.id)
    if uais is None:
        where = [_SS.c.taken_us >= since]
        if span is not None:
            where.append(_SS.c.school_uai.between(*span))
        result = conn.execution_options(stream_results=True, yield_per=20_000).execute(
            select(*cols).where(*where).order_by(*order))
        yield from itertools.groupby(result, key=lambda r: r[7])
        return
    for i in range(0, len(uais), BATCH):
        result = conn.execute(select(*cols).where(_SS.c.school_uai.in_(uais[i : i + BATCH]),
                                                  _SS.c.taken_us >= since).order_by(*order))
        yield from itertools.groupby(result, key=lambda r: r[7])


def judge_schools(conn: Connection, profile: Profile, now: datetime, uais: Sequence[str] | None = None,
                  span: tuple[str, str] | None = None) -> dict[str, Verdict]:
    """Judge ``uais`` (every school when None, or those from ``span[0]`` to ``span[1]``).

    Every sample set that may hold a sample in a rule's window is read, in one
    streaming query per batch of schools, and judged by
    :func:`collector.judging.judge_sets`.
    """
    plan = make_plan(profile, now, to_us)
    query = select(_S.c.uai, _S.c.pupils, _S.c.staff)
    if uais is not None:
        facts = {}
        for i in range(0, len(uais), BATCH):
            facts.update({u: SchoolFacts(p, s) for u, p, s in
                          conn.execute(query.where(_S.c.uai.in_(uais[i : i + BATCH])))})
    else:
        query = query if span is None else query.where(_S.c.uai.between(*span))
        facts = {u: SchoolFacts(p, s) for u, p, s in conn.execute(query)}
    names = dict(all_layouts(conn))
    out: dict[str, Verdict] = {}
    for uai, rows in _sets(conn, plan, None if uais is None else sorted(facts), span):
        if uai in facts:
            sets = list(rows)
            missing = {r[3] for r in sets} - names.keys()
            if missing:  # a layout stored since the start
                names.update(layouts(conn, missing))
            out[uai] = judge_sets(plan, sets, names, facts[uai], from_us)
    for uai, f in facts.items():  # no sample in any window
        if uai not in out:
            out[uai] = judge(plan, {}, f, from_us)
    return out


def write_verdicts(conn: Connection, profile: Profile, now: datetime, verdicts: dict[str, Verdict],
                   judged: dict[str, int]) -> None:
    """Store verdicts (one executemany); ``judged``: the report count each one took into account."""
    if not verdicts:
        return
    plan = make_plan(profile, now)
    facts = {}
    keys = sorted(verdicts)
    for i in range(0, len(keys), BATCH):
        facts.update({u: (p, s) for u, p, s in conn.execute(
            select(_S.c.uai, _S.c.pupils, _S.c.staff).where(_S.c.uai.in_(keys[i : i + BATCH])))})
    params = [{"school_uai": uai, "level": v.level, "failing": v.failing(plan),
               "outcomes": dict(zip(plan.ids, v.outcomes, strict=True)), "evaluated_at": now,
               "valid_until": v.valid_until, "profile_hash": plan.profile_hash,
               "pupils": facts[uai][0], "staff": facts[uai][1],
               "reports": judged.get(uai, 0), "judged_reports": judged.get(uai, 0)}
              for uai, v in verdicts.items() if uai in facts]
    ins = _insert(conn)
    if ins is None:
        for p in params:
            conn.execute(_V.delete().where(_V.c.school_uai == p["school_uai"]))
        conn.execute(_V.insert(), params)
        return
    stmt = ins(_V)
    kept = ("level", "failing", "outcomes", "evaluated_at", "valid_until", "profile_hash", "pupils",
            "staff", "judged_reports")  # never ``reports``: ingest moves it
    for i in range(0, len(params), 5000):
        conn.execute(stmt.on_conflict_do_update(index_elements=[_V.c.school_uai],
                                                set_={k: stmt.excluded[k] for k in kept}),
                     params[i : i + 5000])


def _stale_expr(plan_hash: str, now: datetime) -> Any:
    return or_(_V.c.reports != _V.c.judged_reports, _V.c.evaluated_at.is_(None), _V.c.evaluated_at > now,
               and_(_V.c.valid_until.is_not(None), _V.c.valid_until < now), _V.c.profile_hash != plan_hash,
               _V.c.pupils.is_distinct_from(_S.c.pupils), _V.c.staff.is_distinct_from(_S.c.staff))


def stale_schools(conn: Connection, profile: Profile, now: datetime,
                  everything: bool = False) -> dict[str, int]:
    """Schools to judge again, with the report count they have now.

    Out of date verdicts, and schools with agents but no verdict yet (``everything``:
    every school).
    """
    digest = make_plan(profile, now).profile_hash
    query = select(_V.c.school_uai, _V.c.reports).join(_S, _S.c.uai == _V.c.school_uai)
    out = dict(conn.execute(query if everything else query.where(_stale_expr(digest, now))).all())
    without = (select(_S.c.uai) if everything else select(AgentRow.school_uai).distinct()) \
        .where((_S.c.uai if everything else AgentRow.school_uai).not_in(select(_V.c.school_uai)))
    out.update({u: 0 for (u,) in conn.execute(without)})
    return out


def verdict_table(conn: Connection, profile: Profile, now: datetime,
                  uais: Sequence[str] | None = None) -> dict[str, Stored]:
    """The stored verdict of every school that has one (or of ``uais``), out of date ones judged again."""
    digest = make_plan(profile, now).profile_hash
    query = select(_V.c.school_uai, _V.c.level, _V.c.failing, _V.c.reports, _stale_expr(digest, now)) \
        .join(_S, _S.c.uai == _V.c.school_uai)
    rows: list[Any] = []
    if uais is None:
        rows = list(conn.execute(query).all())
    else:
        for i in range(0, len(uais), BATCH):
            rows += conn.execute(query.where(_V.c.school_uai.in_(uais[i : i + BATCH]))).all()
    table = {u: Stored(level, tuple(failing)) for u, level, failing, _, _ in rows}
    todo = {u: n for u, _, _, n, stale in rows if stale}
    missing = [u for (u,) in conn.execute(select(AgentRow.school_uai).distinct().where(
        AgentRow.school_uai.not_in(select(_V.c.school_uai))))]
    if uais is not None:
        wanted = set(uais)
        missing = [u for u in missing if u in wanted]
    todo.update(dict.fromkeys(missing, 0))
    if todo:
        from collector.metrics import EVALUATION

        with EVALUATION.labels("verdicts").time():
            verdicts = judge_schools(conn, profile, now, sorted(todo))
            write_verdicts(conn, profile, now, verdicts, todo)
        plan = make_plan(profile, now)
        table.update({u: Stored(v.level, tuple(v.failing(plan))) for u, v in verdicts.items()})
        log.info("judged %d out of date school verdict(s) on read", len(verdicts))
    return table


def count_stored(conn: Connection) -> int:
    """How many verdicts are stored."""
    return conn.scalar(select(func.count()).select_from(_V)) or 0
