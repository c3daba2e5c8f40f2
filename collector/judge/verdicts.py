"""Stored verdicts: each school's level and failing rules, kept in the database for every process.

Ingest counts the report against the school (one upsert, collector/ingest/statements.py);
the verdict is then out of date until it is judged again. A verdict is also out
of date when its ``valid_until`` has passed (a sample used left its window), when
the profile changed, or when the school's pupil or staff count changed.
:func:`verdict_table` (the overview, the list, the exports) judges again the out
of date ones it is asked for before answering; the sweep does it for all
(collector/judge/sweep.py, ``socle-collector evaluate``). Schools are judged many
at once (collector/judge/many.py).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, Table, and_, func, or_, select

from collector.db.engine import as_utc
from collector.db.models import AgentRow, School
from collector.db.verdict_tables import SchoolVerdict, VerdictWrite
from collector.edge.metrics import EVALUATION
from collector.judge.history import Entry, changes, record_changes
from collector.judge.many import BATCH, judge_schools
from collector.judge.plan import MEASURED, Plan, Verdict, make_plan
from config.profile import Profile
from config.wire import Level

log = logging.getLogger("socle.collector.verdicts")

_V: Table = SchoolVerdict.__table__  # type: ignore[assignment]
_S: Table = School.__table__  # type: ignore[assignment]
_W: Table = VerdictWrite.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class Stored:
    """A school's stored verdict as the lists show it (``silent``: set by the overview from its agents,
    collector/dashboard/status.py)."""

    level: str
    failing: tuple[str, ...]
    since: datetime | None = None  # when the level began (collector/judge/history.py)
    silent: bool = False


NO_VERDICT = Stored(level=Level.no_data.value, failing=())


class VerdictRow(NamedTuple):
    """A verdict as written to ``school_verdicts``, its values as the driver takes them."""

    school_uai: str
    reports: int
    level: str
    failing: str  # JSON
    outcomes: str  # JSON
    evaluated_at: Any
    valid_until: Any
    profile_hash: str
    pupils: int | None
    staff: int | None
    judged_reports: int
    since: Any  # when the level began: this judging, or the stored one's when the level holds
    # The figures kept with the verdict (collector/judge/plan.py MEASURED) and the rules that gave them.
    measured_download_mbps: float | None = None
    measured_download_rule: str | None = None
    measured_upload_mbps: float | None = None
    measured_upload_rule: str | None = None

    def same_verdict(self, old: StoredRow) -> bool:
        """Whether ``old`` says the same of the school (its profile digest aside)."""
        return (old.level, old.outcomes, old.valid_until, old.pupils, old.staff, old.judged_reports,
                old.measured_download_mbps, old.measured_download_rule, old.measured_upload_mbps,
                old.measured_upload_rule) == \
            (self.level, self.outcomes, self.valid_until, self.pupils, self.staff, self.judged_reports,
             self.measured_download_mbps, self.measured_download_rule, self.measured_upload_mbps,
             self.measured_upload_rule)


class StoredRow(NamedTuple):
    """What :func:`_changed` reads back of a stored verdict."""

    level: str
    outcomes: str  # JSON text
    valid_until: Any
    profile_hash: str
    pupils: int | None
    staff: int | None
    judged_reports: int
    since: Any
    measured_download_mbps: float | None
    measured_download_rule: str | None
    measured_upload_mbps: float | None
    measured_upload_rule: str | None


_COLUMNS = VerdictRow._fields
_NONE_MEASURED = (None,) * len(MEASURED)  # a verdict made without the plan's figures (tests)
_KEPT = _COLUMNS[2:]  # never ``reports`` on conflict: ingest moves it


def _facts(conn: Connection, uais: Sequence[str]) -> dict[str, tuple[int | None, int | None]]:
    """(pupils, staff) of these schools, as the verdicts are judged with them."""
    query = select(_S.c.uai, _S.c.pupils, _S.c.staff)
    if len(uais) > 20 * BATCH:  # most schools: one read of them all
        wanted = set(uais)
        return {u: (p, s) for u, p, s in conn.execute(query) if u in wanted}
    facts: dict[str, tuple[int | None, int | None]] = {}
    for i in range(0, len(uais), BATCH):
        facts.update({u: (p, s) for u, p, s in conn.execute(query.where(_S.c.uai.in_(uais[i : i + BATCH])))})
    return facts


def write_verdicts(conn: Connection, profile: Profile, now: datetime, verdicts: dict[str, Verdict],
                   judged: dict[str, int]) -> None:
    """Store verdicts in the caller's transaction; ``judged``: the report count each one took into account.

    Tens of thousands come after a profile change: they go through the driver (SQLite's or psycopg's)
    in one ``executemany``, where SQLAlchemy's per-row parameter processing would cost more than the
    database. The JSON columns are written once per distinct outcome, which many schools share, and a
    verdict that comes out as it was stored is not written again.
    """
    if not verdicts:
        return
    plan = make_plan(profile, now)
    facts = _facts(conn, sorted(verdicts))
    pg = conn.dialect.name == "postgresql"
    stamp: Any = lambda d: d  # noqa: E731 - psycopg takes datetimes as they are
    if not pg:
        bind = _V.c.evaluated_at.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        assert bind is not None
        stamp = bind
    texts: dict[tuple[str, ...], tuple[str, str]] = {}
    evaluated = stamp(now)
    rows = []
    for uai, v in verdicts.items():
        if uai not in facts:
            continue
        encoded = texts.get(v.outcomes)
        if encoded is None:
            encoded = texts[v.outcomes] = (json.dumps(v.failing(plan)),
                                           json.dumps(dict(zip(plan.ids, v.outcomes, strict=True))))
        pupils, staff = facts[uai]
        n = judged.get(uai, 0)
        kept: list[Any] = []
        for found in v.measured or _NONE_MEASURED:
            kept += (None, None) if found is None else (found[1], plan.ids[found[0]])
        rows.append(VerdictRow(uai, n, v.level, encoded[0], encoded[1], evaluated,
                               None if v.valid_until is None else stamp(v.valid_until), plan.profile_hash,
                               pupils, staff, n, evaluated, *kept))
    conn.execute(select(1))  # the transaction has begun on this connection
    cur: Any = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        _upsert(cur, pg, plan, evaluated, rows)
    finally:
        cur.close()


def _upsert(cur: Any, pg: bool, plan: Plan, evaluated: Any, rows: list[VerdictRow]) -> None:
    mark = "%s" if pg else "?"
    marks = [f"{mark}::json" if pg and c in ("failing", "outcomes") else mark for c in _COLUMNS]
    changed, restamp, entries = _changed(cur, pg, rows)
    if pg and entries:
        # Two writers (the sweep and a reader) judging one school at once would both see the old verdict
        # and both write its change: the schools whose change goes to the history are read again, locked,
        # and judged against what the other wrote (PostgreSQL's FOR UPDATE waits for it and returns its
        # row). SQLite has one writer: the second's write over a stale read is refused, never duplicated.
        moving = {e.school_uai for e in entries}
        again, restamped, entries = _changed(cur, pg, [r for r in rows if r.school_uai in moving], lock=True)
        changed = [r for r in changed if r.school_uai not in moving] + again
        restamp += restamped
    record_changes(cur, pg, entries)
    if changed:  # committed with them: the processes that keep the verdicts read them again (VerdictCache)
        cur.execute(f"INSERT INTO {_W.name} DEFAULT VALUES")
        cur.executemany(f"INSERT INTO {_V.name} ({', '.join(_COLUMNS)}) VALUES ({', '.join(marks)}) "
                        f"ON CONFLICT (school_uai) DO UPDATE SET "
                        f"{', '.join(f'{k} = excluded.{k}' for k in _KEPT)}", changed)
    if restamp:  # the same verdict under another profile digest: only the stamp moves
        update = f"UPDATE {_V.name} SET profile_hash = {mark}, evaluated_at = {mark} WHERE school_uai = "
        if pg:
            cur.execute(update + "ANY(%s)", (plan.profile_hash, evaluated, restamp))
        else:
            cur.executemany(update + "?", [(plan.profile_hash, evaluated, u) for u in restamp])


def _changed(cur: Any, pg: bool, rows: list[VerdictRow],
             lock: bool = False) -> tuple[list[VerdictRow], list[str], list[Entry]]:
    """Of verdict rows to upsert, those that differ from the stored ones (each with since when its level
    holds), the schools whose stored verdict is the same but for the profile digest, and the history
    entries of the changes (collector/judge/history.py). A full re-evaluation judges every school
    again; most verdicts come out as they were, and rewriting them cost as much as judging."""
    uais = [row.school_uai for row in rows]
    read = ["outcomes::text" if pg and f == "outcomes" else f for f in StoredRow._fields]
    sql = f"SELECT school_uai, {', '.join(read)} FROM {_V.name} WHERE school_uai "
    stored: dict[str, StoredRow] = {}
    if pg:
        cur.execute(sql + "= ANY(%s)" + (" ORDER BY school_uai FOR UPDATE" if lock else ""), (uais,))
        stored = {row[0]: StoredRow(*row[1:]) for row in cur.fetchall()}
    else:
        for i in range(0, len(uais), BATCH):
            part = uais[i : i + BATCH]
            cur.execute(sql + f"IN ({', '.join('?' * len(part))})", part)
            stored.update({row[0]: StoredRow(*row[1:]) for row in cur.fetchall()})
    changed, restamp, entries = [], [], []
    for row in rows:
        old = stored.get(row.school_uai)
        if old is None or not row.same_verdict(old):
            if old is not None and old.profile_hash:  # judged before (ingest's first count has no digest)
                if old.level == row.level:
                    row = row._replace(since=old.since)
                if old.level != row.level or old.outcomes != row.outcomes:
                    entries += changes(row.school_uai, row.evaluated_at, (old.level, old.outcomes),
                                       (row.level, row.outcomes), old.profile_hash != row.profile_hash,
                                       row.profile_hash)
            changed.append(row)
        elif old.profile_hash != row.profile_hash:
            restamp.append(row.school_uai)
    return changed, restamp, entries


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


class VerdictCache:
    """Every school's stored verdict, kept by one process (thread-safe) and read again when a transaction
    that stored verdicts has committed since the last read: the row count or the newest id of
    ``verdict_writes`` moved (:func:`write_verdicts` adds a row in the transaction that writes them).

    The count is read with the id because ids are taken in one order and committed in another: a
    transaction that took a smaller id than the newest seen and commits after it moves the count.
    The token is read before the verdicts, so a write committed between the two makes the next
    token differ, and the table is read again then.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._token: tuple[Any, ...] | None = None
        self._table: dict[str, Stored] = {}

    def table(self, conn: Connection) -> dict[str, Stored]:
        """The stored verdicts as committed (shared: not to be changed by the caller)."""
        token = tuple(conn.execute(select(func.count(), func.max(_W.c.id))).one())
        with self._lock:
            if token == self._token:
                return self._table
        table = read_stored(conn)
        with self._lock:
            self._token, self._table = token, table
        return table


WRITES_KEPT = 1000  # rows of ``verdict_writes`` left by trim_writes (a few minutes of writes at most)


def trim_writes(conn: Connection) -> int:
    """Drop all but the newest :data:`WRITES_KEPT` rows of ``verdict_writes`` once there are twice as
    many (each trim makes every cache read the verdicts once more); how many were dropped."""
    count, top = conn.execute(select(func.count(), func.max(_W.c.id))).one()
    if count <= 2 * WRITES_KEPT:
        return 0
    return conn.execute(_W.delete().where(_W.c.id <= top - WRITES_KEPT)).rowcount


def read_stored(conn: Connection) -> dict[str, Stored]:
    """Every stored verdict as the lists show it, through the driver: the failing rules' JSON and the
    since times are decoded once per distinct value (most schools share theirs with many others)."""
    pg = conn.dialect.name == "postgresql"
    since_of = _V.c.since.type.dialect_impl(conn.dialect).result_processor(conn.dialect, None)
    failing_col = "failing::text" if pg else "failing"
    lists: dict[str, tuple[str, ...]] = {}
    times: dict[Any, datetime | None] = {None: None}
    table = {}
    for uai, level, failing, since in conn.exec_driver_sql(
            f"SELECT school_uai, level, {failing_col}, since FROM {_V.name}"):
        rules = lists.get(failing)
        if rules is None:
            rules = lists[failing] = tuple(json.loads(failing)) if failing else ()
        at = times.get(since, _UNSEEN)
        if at is _UNSEEN:
            value: Any = since_of(since) if since_of is not None else since
            at = times[since] = as_utc(value)
        table[uai] = Stored(level, rules, at)  # type: ignore[arg-type]
    return table


_UNSEEN = object()


def verdict_table(conn: Connection, profile: Profile, now: datetime, uais: Sequence[str] | None = None,
                  cache: VerdictCache | None = None) -> dict[str, Stored]:
    """The stored verdict of every school that has one (or of ``uais``), out of date ones judged again.

    With ``cache`` (every school only), the verdicts come from it and only the out of date ones are
    read from the database, by one query that returns them alone.
    """
    digest = make_plan(profile, now).profile_hash
    if uais is None and cache is not None:
        table = cache.table(conn)
        todo = dict(conn.execute(select(_V.c.school_uai, _V.c.reports).join(_S, _S.c.uai == _V.c.school_uai)
                                 .where(_stale_expr(digest, now))).all())
    else:
        query = select(_V.c.school_uai, _V.c.level, _V.c.failing, _V.c.reports, _stale_expr(digest, now),
                       _V.c.since).join(_S, _S.c.uai == _V.c.school_uai)
        rows: list[Any] = []
        if uais is None:
            rows = list(conn.execute(query).all())
        else:
            for i in range(0, len(uais), BATCH):
                rows += conn.execute(query.where(_V.c.school_uai.in_(uais[i : i + BATCH]))).all()
        table = {u: Stored(level, tuple(failing), None if since is None else as_utc(since))
                 for u, level, failing, _, _, since in rows}
        todo = {u: n for u, _, _, n, stale, _ in rows if stale}
    missing = [u for (u,) in conn.execute(_agents_without_verdict())]
    if uais is not None:
        wanted = set(uais)
        missing = [u for u in missing if u in wanted]
    todo.update(dict.fromkeys(missing, 0))
    if todo:
        table = dict(table)  # the cache's is shared
        with EVALUATION.labels("verdicts").time():
            verdicts = judge_schools(conn, profile, now, sorted(todo))
            write_verdicts(conn, profile, now, verdicts, todo)
        plan = make_plan(profile, now)
        for u, v in verdicts.items():  # the level's since moves as write_verdicts moved it
            old = table.get(u)
            kept = old is not None and old.level == v.level and old.since is not None
            table[u] = Stored(v.level, tuple(v.failing(plan)), old.since if kept and old else now)
        log.info("judged %d out of date school verdict(s) on read", len(verdicts))
    return table
