"""Stored verdicts: each school's level and failing rules, kept in the database for every process.

Ingest counts the report against the school (:func:`note_report`, one upsert);
the verdict is then out of date until it is judged again. A verdict is also out
of date when its ``valid_until`` has passed (a sample used left its window), when
the profile changed, or when the school's pupil or staff count changed.
:func:`verdict_table` (the overview, the list, the exports) judges again the out
of date ones it is asked for before answering; :func:`collector.sweep.sweep` does it for all
(``socle-collector evaluate`` and the sweep in collector/sweep.py).

Judging many schools reads their samples in one streaming query ordered by
school, only the metrics the profile reads and only within each metric's window,
then runs the lean :func:`collector.judging.judge` (the same outcomes as
``config.readiness.evaluate``).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, String, Table, and_, func, or_, select, type_coerce, update
from sqlalchemy.sql.dml import Insert

from collector.judging import Plan, Verdict, judge, make_plan
from collector.models import AgentRow, MeasurementRow, School, SchoolVerdict
from config.profile import Profile
from config.readiness import SchoolFacts
from config.wire import Level

log = logging.getLogger("socle.collector.verdicts")

BATCH = 500  # schools per IN (...) query
_V: Table = SchoolVerdict.__table__  # type: ignore[assignment]
_M: Table = MeasurementRow.__table__  # type: ignore[assignment]
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


def _codec(conn: Connection) -> tuple[Any, Any, Any]:
    """How taken_at is read: (column expression, encode datetime, decode to an aware datetime)."""
    if conn.dialect.name == "sqlite":  # stored as sortable text: compare it as text, parse only a few
        bind = _M.c.taken_at.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        assert bind is not None
        return (type_coerce(_M.c.taken_at, String), bind,
                lambda s: datetime.fromisoformat(s).replace(tzinfo=UTC))
    return _M.c.taken_at, lambda d: d, lambda d: d.astimezone(UTC) if d.tzinfo else d.replace(tzinfo=UTC)


def _window_filter(plan: Plan) -> Any:
    by_window: dict[timedelta, list[str]] = {}
    for metric, window in plan.windows.items():
        by_window.setdefault(window, []).append(metric)
    return or_(*(and_(_M.c.metric.in_(sorted(ms)), _M.c.taken_at >= plan.now - w)
                 for w, ms in sorted(by_window.items())))


def _rows(conn: Connection, plan: Plan, taken: Any, uais: Sequence[str] | None,
          span: tuple[str, str] | None = None) -> Iterator[tuple[str, Any]]:
    """(school, rows of its samples ordered by metric then time) for ``uais`` (all when None)."""
    cols = (_M.c.value, taken, _M.c.room, _M.c.device, _M.c.limited_by, _M.c.school_uai, _M.c.metric)
    order = (_M.c.school_uai, _M.c.metric, _M.c.taken_at, _M.c.id)
    if uais is None:
        where = [_window_filter(plan)]
        if span is not None:
            where.append(_M.c.school_uai.between(*span))
        result = conn.execution_options(stream_results=True, yield_per=20_000).execute(
            select(*cols).where(*where).order_by(*order))
        yield from itertools.groupby(result, key=lambda r: r[5])
        return
    for i in range(0, len(uais), BATCH):
        result = conn.execute(select(*cols).where(_M.c.school_uai.in_(uais[i : i + BATCH]),
                                                  _window_filter(plan)).order_by(*order))
        yield from itertools.groupby(result, key=lambda r: r[5])


def judge_schools(conn: Connection, profile: Profile, now: datetime, uais: Sequence[str] | None = None,
                  span: tuple[str, str] | None = None) -> dict[str, Verdict]:
    """Judge ``uais`` (every school when None, or those from ``span[0]`` to ``span[1]``).

    Every sample in the rules' windows is read, in one streaming query per batch
    of schools. (Aggregating in SQL instead was measured slower on SQLite and on
    PostgreSQL: docs/benchmarks.md.)
    """
    taken, encode, decode = _codec(conn)
    plan = make_plan(profile, now, encode)
    query = select(_S.c.uai, _S.c.pupils, _S.c.staff)
    if uais is not None:
        facts = {}
        for i in range(0, len(uais), BATCH):
            facts.update({u: SchoolFacts(p, s) for u, p, s in
                          conn.execute(query.where(_S.c.uai.in_(uais[i : i + BATCH])))})
    else:
        query = query if span is None else query.where(_S.c.uai.between(*span))
        facts = {u: SchoolFacts(p, s) for u, p, s in conn.execute(query)}
    out: dict[str, Verdict] = {}
    for uai, rows in _rows(conn, plan, taken, None if uais is None else sorted(facts), span):
        by_metric: dict[str, list[Any]] = {}
        current = None
        bucket: list[Any] = []
        for row in rows:
            if row[6] != current:
                current = row[6]
                bucket = by_metric[current] = []
            bucket.append(row)
        if uai in facts:
            out[uai] = judge(plan, by_metric, facts[uai], decode)
    for uai, f in facts.items():  # no sample in any window
        if uai not in out:
            out[uai] = judge(plan, {}, f, decode)
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
