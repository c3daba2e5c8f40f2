"""Stored verdicts: each school's level and failing rules, kept in the database for every process.

Ingest counts the report against the school (one upsert, collector/ingest_statements.py);
the verdict is then out of date until it is judged again. A verdict is also out
of date when its ``valid_until`` has passed (a sample used left its window), when
the profile changed, or when the school's pupil or staff count changed.
:func:`verdict_table` (the overview, the list, the exports) judges again the out
of date ones it is asked for before answering; :func:`collector.sweep.sweep` does it for all
(``socle-collector evaluate`` and the sweep in collector/sweep.py).

Judging many schools reads their sample sets (collector/sample_sets.py) in one
streaming query ordered by school, only within the rules' longest window, then
runs the lean judge of collector/judging.py (the same outcomes as
``config.readiness.evaluate``), or reads the columns the sweep kept per school
(collector/school_columns.py).
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Table, and_, func, or_, select

from collector import judging_batch, school_columns
from collector.judging import Plan, Verdict, judge, judge_values, make_plan, set_columns
from collector.models import AgentRow, SampleSetRow, School, SchoolVerdict
from collector.sample_sets import READ_COLUMNS, all_layouts, from_us, layouts, to_us
from collector.school_columns import Keeper
from collector.streaming import stream
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




def _stream_all(conn: Connection, since: int, span: tuple[str, str] | None) -> Iterator[Any] | None:
    """Every set from ``since`` on, by school then time, through the driver's own cursor
    (collector/streaming.py); None on another driver."""
    columns = ", ".join(c.name for c in (*READ_COLUMNS, _SS.c.school_uai))
    sql = (f"SELECT {columns} FROM {_SS.name} WHERE taken_us >= ?"
           + (" AND school_uai BETWEEN ? AND ?" if span else "") + " ORDER BY school_uai, taken_us, id")
    return stream(conn, sql, (since, *span) if span else (since,), "socle_judge_sets")


def _sets(conn: Connection, plan: Plan, uais: Sequence[str] | None,
          span: tuple[str, str] | None = None) -> Iterator[tuple[str, Any]]:
    """(school, its sample sets in time order) for ``uais`` (all when None, or those in ``span``), only
    the sets from the plan's ``horizon`` on."""
    since = plan.horizon
    cols = (*READ_COLUMNS, _SS.c.school_uai)
    order = (_SS.c.school_uai, _SS.c.taken_us, _SS.c.id)
    if uais is None:
        raw = _stream_all(conn, since, span)
        if raw is not None:
            yield from itertools.groupby(raw, key=itemgetter(7))
            return
        where = [_SS.c.taken_us >= since]
        if span is not None:
            where.append(_SS.c.school_uai.between(*span))
        result = conn.execution_options(stream_results=True, yield_per=20_000).execute(
            select(*cols).where(*where).order_by(*order))
        yield from itertools.groupby(result, key=itemgetter(7))
        return
    for i in range(0, len(uais), BATCH):
        result = conn.execute(select(*cols).where(_SS.c.school_uai.in_(uais[i : i + BATCH]),
                                                  _SS.c.taken_us >= since).order_by(*order))
        yield from itertools.groupby(result, key=itemgetter(7))


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


def judge_schools(conn: Connection, profile: Profile, now: datetime, uais: Sequence[str] | None = None,
                  span: tuple[str, str] | None = None, keeper: Keeper | None = None,
                  use_kept: bool = True) -> dict[str, Verdict]:
    """Judge ``uais`` (every school when None, or those from ``span[0]`` to ``span[1]``).

    A school is judged from the columns the sweep kept for it (collector/school_columns.py)
    while they hold every set needed (unless not ``use_kept``); otherwise from its
    sample sets in the rules' windows, read in one streaming query (most schools)
    or per batch of schools, made into columns (``keeper`` is handed them) unless
    a set must be read value by value. Columns are judged many schools at once
    (collector/judging_batch.py).
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
    out: dict[str, Verdict] = {}
    if use_kept:
        rows = school_columns.kept(conn, plan, None if uais is None else sorted(facts), span)
        while chunk := list(itertools.islice(rows, judging_batch.BATCH)):
            mine = [(u, r) for u, r in chunk if u in facts]
            out.update(judging_batch.judge_rows(plan, mine, facts, from_us))
    rest = sorted(u for u in facts if u not in out)
    if rest:
        names = _Layouts(conn)
        whole = uais is None and len(rest) > len(facts) // 2  # most schools: one streaming read
        made: list[tuple[str, school_columns.Encoded]] = []
        for uai, rows in _sets(conn, plan, None if whole else rest, span):
            if uai not in facts or uai in out:
                continue
            sets = list(rows)
            columns = set_columns(plan, sets, names)
            if columns is None:  # a survey's own times, or a metric twice in a set: value by value
                out[uai] = judge_values(plan, sets, names, facts[uai], from_us)
                continue
            encoded = school_columns.encode(columns)
            if keeper is not None:
                keeper.keep(uai, encoded)
            made.append((uai, encoded))
            if len(made) >= judging_batch.BATCH:
                out.update(judging_batch.judge_rows(plan, made, facts, from_us))
                made = []
        out.update(judging_batch.judge_rows(plan, made, facts, from_us))
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
    facts: dict[str, tuple[int | None, int | None]] = {}
    keys = sorted(verdicts)
    query = select(_S.c.uai, _S.c.pupils, _S.c.staff)
    if len(keys) > 20 * BATCH:  # most schools: one read of them all
        facts = {u: (p, s) for u, p, s in conn.execute(query) if u in verdicts}
    else:
        for i in range(0, len(keys), BATCH):
            part = query.where(_S.c.uai.in_(keys[i : i + BATCH]))
            facts.update({u: (p, s) for u, p, s in conn.execute(part)})
    if _insert(conn) is None:
        params = [_params(plan, now, uai, v, facts[uai], judged.get(uai, 0))
                  for uai, v in verdicts.items() if uai in facts]
        for p in params:
            conn.execute(_V.delete().where(_V.c.school_uai == p["school_uai"]))
        conn.execute(_V.insert(), params)
        return
    _upsert_verdicts(conn, plan, now, [(uai, v, facts[uai], judged.get(uai, 0))
                                       for uai, v in verdicts.items() if uai in facts])


def _params(plan: Plan, now: datetime, uai: str, v: Verdict, facts: tuple[int | None, int | None],
            judged: int) -> dict[str, Any]:
    return {"school_uai": uai, "level": v.level, "failing": v.failing(plan),
            "outcomes": dict(zip(plan.ids, v.outcomes, strict=True)), "evaluated_at": now,
            "valid_until": v.valid_until, "profile_hash": plan.profile_hash, "pupils": facts[0],
            "staff": facts[1], "reports": judged, "judged_reports": judged}


_KEPT = ("level", "failing", "outcomes", "evaluated_at", "valid_until", "profile_hash", "pupils", "staff",
         "judged_reports")  # never ``reports`` on conflict: ingest moves it
_COLUMNS = ("school_uai", "reports", *_KEPT)


def _upsert_verdicts(conn: Connection, plan: Plan, now: datetime,
                     rows: list[tuple[str, Verdict, tuple[int | None, int | None], int]]) -> None:
    """Upsert verdicts through the driver (SQLite or PostgreSQL): tens of thousands after a profile
    change, where SQLAlchemy's per-row parameter processing costs more than the database. The JSON
    columns are written once per distinct outcome, which many schools share."""
    dialect = conn.dialect
    stamp: Any = lambda d: d  # noqa: E731 - the driver takes datetimes as they are
    mark, json_mark = "%s", "%s::json"
    if dialect.name == "sqlite":
        bind = _V.c.evaluated_at.type.dialect_impl(dialect).bind_processor(dialect)
        assert bind is not None
        stamp, mark, json_mark = bind, "?", "?"
    elif dialect.driver != "psycopg":  # another PostgreSQL driver: SQLAlchemy's statement
        stmt = _insert(conn)(_V)
        params = [_params(plan, now, uai, v, f, n) for uai, v, f, n in rows]
        for i in range(0, len(params), 5000):
            conn.execute(stmt.on_conflict_do_update(index_elements=[_V.c.school_uai],
                                                    set_={k: stmt.excluded[k] for k in _KEPT}),
                         params[i : i + 5000])
        return
    marks = [json_mark if c in ("failing", "outcomes") else mark for c in _COLUMNS]
    sql = (f"INSERT INTO {_V.name} ({', '.join(_COLUMNS)}) VALUES ({', '.join(marks)}) "
           f"ON CONFLICT (school_uai) DO UPDATE SET {', '.join(f'{k} = excluded.{k}' for k in _KEPT)}")
    texts: dict[tuple[str, ...], tuple[str, str]] = {}
    evaluated = stamp(now)
    data = []
    for uai, v, (pupils, staff), judged in rows:
        encoded = texts.get(v.outcomes)
        if encoded is None:
            encoded = texts[v.outcomes] = (json.dumps(v.failing(plan)),
                                           json.dumps(dict(zip(plan.ids, v.outcomes, strict=True))))
        until = None if v.valid_until is None else stamp(v.valid_until)
        data.append((uai, judged, v.level, encoded[0], encoded[1], evaluated, until, plan.profile_hash,
                     pupils, staff, judged))
    conn.execute(select(1))  # the transaction has begun on this connection
    cur: Any = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        data, restamp = _changed(cur, mark, data)
        if data:
            cur.executemany(sql, data)
        if restamp:  # the same verdict under another profile digest: only the stamp moves
            update = f"UPDATE {_V.name} SET profile_hash = {mark}, evaluated_at = {mark} WHERE school_uai = "
            if mark == "%s":
                cur.execute(update + "ANY(%s)", (plan.profile_hash, evaluated, restamp))
            else:
                cur.executemany(update + "?", [(plan.profile_hash, evaluated, u) for u in restamp])
    finally:
        cur.close()


def _changed(cur: Any, mark: str, data: list[tuple[Any, ...]]) -> tuple[list[tuple[Any, ...]], list[str]]:
    """Of verdict rows to upsert (``_COLUMNS`` order), those that differ from the stored ones, and the
    schools whose stored verdict is the same but for the profile digest. A full re-evaluation judges
    every school again; most verdicts come out as they were, and rewriting them cost as much as judging.
    """
    uais = [row[0] for row in data]
    sql = (f"SELECT school_uai, level, {'outcomes::text' if mark == '%s' else 'outcomes'}, valid_until, "
           f"profile_hash, pupils, staff, judged_reports FROM {_V.name} WHERE school_uai ")
    stored: dict[str, tuple[Any, ...]] = {}
    if mark == "%s":
        cur.execute(sql + "= ANY(%s)", (uais,))
        stored = {row[0]: row[1:] for row in cur.fetchall()}
    else:
        for i in range(0, len(uais), BATCH):
            part = uais[i : i + BATCH]
            cur.execute(sql + f"IN ({', '.join('?' * len(part))})", part)
            stored.update({row[0]: row[1:] for row in cur.fetchall()})
    changed, restamp = [], []
    for row in data:
        old = stored.get(row[0])
        # row: uai, reports, level, failing, outcomes, evaluated, valid_until, digest, pupils, staff, judged
        if old is None or (old[0], old[1], old[2], old[4], old[5], old[6]) != \
                (row[2], row[4], row[6], row[8], row[9], row[10]):
            changed.append(row)
        elif old[3] != row[7]:
            restamp.append(row[0])
    return changed, restamp


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
    without = select(_S.c.uai).where(~_has_verdict(_S.c.uai)) if everything else _agents_without_verdict()
    out.update({u: 0 for (u,) in conn.execute(without)})
    return out


def _has_verdict(uai: Any) -> Any:
    # EXISTS, not NOT IN (subquery): PostgreSQL turns a NOT IN over 50,000 verdicts that does not fit
    # its work memory into a scan of them all for each school (55 s for the overview at 50,000).
    return select(_V.c.school_uai).where(_V.c.school_uai == uai).exists()


def _agents_without_verdict() -> Any:
    """The schools that have an agent and no verdict yet."""
    return select(AgentRow.school_uai).distinct().where(~_has_verdict(AgentRow.school_uai))


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
    missing = [u for (u,) in conn.execute(_agents_without_verdict())]
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
