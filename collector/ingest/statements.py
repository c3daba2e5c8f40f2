"""The ingest group's statements, written for the driver: sqlite3's or psycopg's own connection.

The writer (collector/ingest/writer.py) holds the database's only write turn
(SQLite) or its schools' count rows (PostgreSQL) from a group's first write to
its commit: every microsecond spent there is taken from every other writer.
SQLAlchemy's execution layer (compiling, parameter processing, result wrapping)
cost about a third of that time, so here each statement is SQL text built once
per dialect, run on a DBAPI cursor. Values go in as the SQLAlchemy types would
write them (the same datetime text on SQLite), so what is stored is the same as
through the ORM or Core.

One :class:`Statements` per dialect; :func:`for_engine` gives it. Only SQLite and
PostgreSQL (psycopg) are served, as by the rest of the collector.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, DateTime, Engine
from sqlalchemy.engine import Dialect

from collector.db.displays import WINDOW, report_displays
from collector.db.engine import as_utc
from collector.db.sample_sets import SET_COLUMNS, Packed
from config.wire import Level, Report

REPORT_COLUMNS = ("report_id", "agent_id", "school_uai", "room", "taken_at", "received_at", "payload")
_CHUNK = 100  # rows per multi-row statement (SQLite allows 32,766 parameters; 7 per report)
_MADE: dict[str, Statements] = {}
# SQLite's own statements, where PostgreSQL's are one statement over arrays below.
_SQLITE_SET = (f"INSERT INTO sample_sets ({', '.join(SET_COLUMNS)}) "
               f"VALUES ({', '.join('?' * len(SET_COLUMNS))})")
# %b: arrays sent in binary (psycopg escapes each element of a text-format array with a regular expression)
_PG_SET_TYPES = ("text", "text", "text", "text", "int8", "text", "bytea", "bytea", "text")  # SET_COLUMNS'
_PG_SET_ROWS = f"unnest({', '.join(f'%b::{t}[]' for t in _PG_SET_TYPES)})"
_PG_SETS = f"INSERT INTO sample_sets ({', '.join(SET_COLUMNS)}) SELECT * FROM {_PG_SET_ROWS}"
# Counting stored reports against their schools' verdicts, from a source of (school, level, how many): a
# school's first count makes its row, with no verdict yet.
_COUNT = ("INSERT INTO school_verdicts (school_uai, level, failing, outcomes, profile_hash, reports, "
          "judged_reports) {} ON CONFLICT (school_uai) "
          "DO UPDATE SET reports = school_verdicts.reports + excluded.reports")
_SQLITE_COUNT = _COUNT.format("VALUES (?, ?, '[]', '{}', '', ?, 0)")
_PG_COUNT = _COUNT.format("SELECT v.u, %s, '[]'::json, '{}'::json, '', v.n, 0 FROM "
                          "unnest(%b::text[], %b::int[]) AS v(u, n)")
# Machines seen again: (agent, incarnation, when) over three arrays.
_PG_INC_SEEN = ("UPDATE agent_incarnations AS i SET last_seen_at = v.t FROM unnest(%b::text[], %b::text[], "
                "%b::timestamptz[]) AS v(a, inc, t) WHERE i.agent_id = v.a AND i.incarnation = v.inc")
# A report's displays reading replaces its agent's kept one when it is newer (collector/db/displays.py).
_NEWER = "g.dt IS NOT NULL AND (a.displays_at IS NULL OR a.displays_at < g.dt)"
# Its equipment facts change (``agents.equipment_changes`` counts them) with a new reading, or when it comes
# back within the window (its first report, or one after a longer silence).
_BACK = f"a.last_seen_at IS NULL OR a.last_seen_at < g.t - interval '{WINDOW.days} days'"
# PostgreSQL: a group's writes after its identity changes, in one statement (Statements.store). Only the
# reports inserted (``r``) get their sets, their schools' counts, and their agents' last_seen_at and
# displays reading (the newest of the group's, from (report, taken at, displays) arrays).
_PG_STORE = (
    f"WITH r AS (INSERT INTO reports ({', '.join(REPORT_COLUMNS)}) "
    "SELECT * FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[], %b::timestamptz[], "
    "%b::timestamptz[], %b::text[]) ON CONFLICT (report_id) DO NOTHING "
    "RETURNING report_id, agent_id, school_uai, received_at), "
    "l AS (INSERT INTO sample_layouts (digest, metrics) SELECT * FROM unnest(%b::text[], %b::text[]) "
    "ON CONFLICT (digest) DO NOTHING), "
    f"s AS (INSERT INTO sample_sets ({', '.join(SET_COLUMNS)}) SELECT * FROM {_PG_SET_ROWS} "
    f"AS v({', '.join(SET_COLUMNS)}) WHERE v.report_id IN (SELECT report_id FROM r)), "
    "c AS (" + _COUNT.format("SELECT school_uai, %b, '[]'::json, '{}'::json, '', count(*), 0 FROM r "
                             "GROUP BY school_uai ORDER BY school_uai") + "), "
    "a AS (UPDATE agents AS a SET last_seen_at = g.t, "
    f"equipment_changes = a.equipment_changes + CASE WHEN {_NEWER} OR {_BACK} THEN 1 ELSE 0 END, "
    f"displays_at = CASE WHEN {_NEWER} THEN g.dt ELSE a.displays_at END, "
    f"displays = CASE WHEN {_NEWER} THEN g.d ELSE a.displays END "
    "FROM (SELECT r.agent_id, max(r.received_at) AS t, max(x.dt) AS dt, "
    "(array_agg(x.d ORDER BY x.dt DESC) FILTER (WHERE x.d IS NOT NULL))[1] AS d FROM r "
    "LEFT JOIN unnest(%b::text[], %b::timestamptz[], %b::text[]) AS x(id, dt, d) ON x.id = r.report_id "
    "GROUP BY r.agent_id) AS g WHERE a.agent_id = g.agent_id), "
    f"i AS ({_PG_INC_SEEN}) SELECT report_id FROM r")
_SQLITE_AGENT_SEEN = ("UPDATE agents SET equipment_changes = equipment_changes + CASE WHEN last_seen_at IS "
                      "NULL OR last_seen_at < ? THEN 1 ELSE 0 END, last_seen_at = ? WHERE agent_id = ?")
_SQLITE_DISPLAYS = ("UPDATE agents SET displays_at = ?, displays = ?, equipment_changes = equipment_changes "
                    "+ 1 WHERE agent_id = ? AND (displays_at IS NULL OR displays_at < ?)")
_SQLITE_INC_SEEN = "UPDATE agent_incarnations SET last_seen_at = ? WHERE agent_id = ? AND incarnation = ?"


class Statements:
    """The ingest group's statements for one dialect, on a DBAPI cursor (see the module's doc)."""

    def __init__(self, dialect: Dialect) -> None:
        name = dialect.name
        if name not in ("sqlite", "postgresql") or (name == "postgresql" and dialect.driver != "psycopg"):
            raise ValueError(f"ingest needs SQLite, or PostgreSQL through psycopg, not {name}+"
                             f"{dialect.driver}")
        self.pg = name == "postgresql"
        mark = "%s" if self.pg else "?"
        self._mark = mark
        stamp = DateTime(timezone=True).dialect_impl(dialect)
        self._out: Callable[[Any], Any] = stamp.bind_processor(dialect) or _same
        read = stamp.result_processor(dialect, None)
        self._in: Callable[[Any], Any] = read or _same
        self._insert_reports_sql: dict[int, str] = {}  # SQLite's, by rows
        self.sql_layout = (f"INSERT INTO sample_layouts (digest, metrics) VALUES ({mark}, {mark}) "
                           "ON CONFLICT (digest) DO NOTHING")
        self.sql_inc_new = ("INSERT INTO agent_incarnations (agent_id, incarnation, first_seen_at, "
                            f"last_seen_at, clone_detected_at) VALUES ({', '.join([mark] * 5)})")
        self.sql_inc_clone = (f"UPDATE agent_incarnations SET clone_detected_at = {mark} "
                              f"WHERE agent_id = {mark} AND incarnation = {mark}")

    # --- values ---------------------------------------------------------------------------

    def group(self, conn: Any) -> Any:
        """The context a group's statements run in on the writer's DBAPI connection: on PostgreSQL,
        psycopg's pipeline mode (the server is waited for only where a result is read, the agents and
        the reports inserted, and at the commit: three round trips instead of about ten); nothing on
        SQLite."""
        return conn.dbapi_connection.pipeline() if self.pg else contextlib.nullcontext()

    def stamp(self, value: datetime | None) -> Any:
        """A datetime as the column stores it (text on SQLite)."""
        return None if value is None else self._out(value)

    def when(self, value: Any) -> datetime:
        """A stored datetime back, in UTC."""
        return as_utc(self._in(value))

    def _in_list(self, column: str, values: Sequence[str]) -> tuple[str, list[Any]]:
        """``column IN (...)`` for these values, and its parameters."""
        if self.pg:
            return f"{column} = ANY(%b)", [list(values)]  # a binary array (see _PG_SETS)
        return f"{column} IN ({', '.join([self._mark] * len(values)) or 'NULL'})", list(values)

    # --- reads ----------------------------------------------------------------------------

    def agents_by_token(self, cur: Any, hashes: Sequence[str]) -> list[tuple[Any, ...]]:
        """The live agents with these credentials, each with its machines, in one read: (agent, school,
        room, token hash, whether it has rotated-out credentials, then incarnation, first seen and clone
        detected at, or three None for an agent without a machine yet)."""
        where, params = self._in_list("a.token_hash", hashes)
        cur.execute("SELECT a.agent_id, a.school_uai, a.room, a.token_hash, EXISTS (SELECT 1 FROM "
                    "agent_previous_tokens p WHERE p.agent_id = a.agent_id), i.incarnation, i.first_seen_at, "
                    "i.clone_detected_at FROM agents a LEFT JOIN agent_incarnations i "
                    f"ON i.agent_id = a.agent_id WHERE {where} AND a.revoked_at IS NULL", params)
        when = self.when
        return [(a, u, r, h, bool(p), i, None if f is None else when(f), None if c is None else when(c))
                for a, u, r, h, p, i, f, c in cur.fetchall()]

    def agents_by_id(self, cur: Any, ids: Sequence[str]) -> list[tuple[str, str, str]]:
        """(agent, school, room) of these live agents."""
        where, params = self._in_list("agent_id", ids)
        cur.execute(f"SELECT agent_id, school_uai, room FROM agents WHERE {where} AND revoked_at IS NULL",
                    params)
        return list(cur.fetchall())

    def previous_tokens(self, cur: Any, hashes: Sequence[str],
                        ids: Sequence[str]) -> list[tuple[str, str, datetime]]:
        """(token hash, agent, retired at) of rotated-out credentials: these, or these agents'."""
        by_hash, p1 = self._in_list("token_hash", hashes)
        by_agent, p2 = self._in_list("agent_id", ids)
        cur.execute("SELECT token_hash, agent_id, retired_at FROM agent_previous_tokens "
                    f"WHERE {by_hash} OR {by_agent}", p1 + p2)
        return [(h, a, self.when(r)) for h, a, r in cur.fetchall()]

    def incarnations(self, cur: Any, ids: Sequence[str]) -> list[tuple[str, str, datetime, datetime | None]]:
        """(agent, incarnation, first seen, clone detected at) of these agents' machines."""
        where, params = self._in_list("agent_id", ids)
        cur.execute("SELECT agent_id, incarnation, first_seen_at, clone_detected_at FROM agent_incarnations "
                    f"WHERE {where}", params)
        return [(a, i, self.when(f), None if c is None else self.when(c)) for a, i, f, c in cur.fetchall()]

    # --- writes ---------------------------------------------------------------------------

    def drop_previous(self, cur: Any, ids: Sequence[str]) -> None:
        """Forget these agents' rotated-out credentials (their new one was used)."""
        where, params = self._in_list("agent_id", ids)
        cur.execute(f"DELETE FROM agent_previous_tokens WHERE {where}", params)

    def add_incarnations(self, cur: Any, rows: Iterable[tuple[str, str, datetime, datetime,
                                                               datetime | None]]) -> None:
        """New machines seen: (agent, incarnation, first seen, last seen, clone detected at)."""
        s = self.stamp
        cur.executemany(self.sql_inc_new, [(a, i, s(f), s(seen), s(c)) for a, i, f, seen, c in rows])

    def mark_clones(self, cur: Any, rows: Iterable[tuple[str, str, datetime]]) -> None:
        """Machines found to be clones: (agent, incarnation, when)."""
        cur.executemany(self.sql_inc_clone, [(self.stamp(at), a, i) for a, i, at in rows])

    def see_machines(self, cur: Any, seen: Sequence[tuple[str, str, datetime]]) -> None:
        """Machines seen again, (agent, incarnation, when), on their own (:meth:`store` writes them with
        a group's reports)."""
        if self.pg:
            cur.execute(_PG_INC_SEEN, _arrays(seen, 3))
            return
        cur.executemany(_SQLITE_INC_SEEN, [(self.stamp(at), a, i) for a, i, at in seen])

    def store(self, cur: Any, rows: Sequence[dict[str, Any]], sets: Sequence[tuple[Packed, tuple[Any, ...]]],
              seen: Sequence[tuple[str, str, datetime]] = ()) -> set[str]:
        """A group's writes after its identity changes; the ids of the reports stored.

        ``rows``: report rows (``report_row`` plus ``agent_id``), one per id; an id already stored is
        skipped. ``sets``: the sample sets of those reports that have some, each with its row
        (``SET_COLUMNS`` order). Each report stored gets its set, counts against its school's verdict
        (collector/judge/verdicts.py) and marks its agent seen at its ``received_at``; its ``displays``
        (collector/db/displays.py ``report_displays``), when it has some and is newer than the agent's,
        become the agent's, dated by its ``taken_at``; the agent's ``equipment_changes`` counts one
        then, and when the report brings it back within the equipment window (collector/db/displays.py
        ``WINDOW``). ``seen``: machines
        seen, (agent, incarnation, when). On PostgreSQL, all of it is one statement.
        """
        if self.pg:
            cur.execute(_PG_STORE, [*_arrays([self._values(r) for r in rows], len(REPORT_COLUMNS)),
                                    *_arrays(_layouts(sets), 2),
                                    *_arrays([row for _, row in sets], len(SET_COLUMNS)),
                                    Level.no_data.value,
                                    *_arrays(_readings(rows, self.stamp), 3),
                                    *_arrays(seen, 3)])
            return {rid for (rid,) in cur.fetchall()}
        if seen:
            self.see_machines(cur, seen)
        stored = self._insert_reports(cur, rows) if rows else set()
        mine = [r for r in rows if r["report_id"] in stored]
        self.insert_sets(cur, [s for s in sets if s[1][0] in stored])
        self.count_reports(cur, Counter(r["school_uai"] for r in mine))
        last_seen: dict[str, datetime] = {}
        for r in mine:
            at = r["received_at"]
            last_seen[r["agent_id"]] = max(at, last_seen.get(r["agent_id"], at))
        cur.executemany(_SQLITE_AGENT_SEEN, [(self.stamp(at - WINDOW), self.stamp(at), a)
                                             for a, at in last_seen.items()])
        readings: dict[str, tuple[datetime, str]] = {}
        for r in mine:
            if r.get("displays") is not None:
                kept = readings.get(r["agent_id"])
                if kept is None or r["taken_at"] > kept[0]:
                    readings[r["agent_id"]] = (r["taken_at"], r["displays"])
        if readings:
            cur.executemany(_SQLITE_DISPLAYS, [(self.stamp(at), d, a, self.stamp(at))
                                               for a, (at, d) in readings.items()])
        return stored

    def _insert_reports(self, cur: Any, rows: Sequence[dict[str, Any]]) -> set[str]:
        """SQLite: insert report rows, skipping ids already stored; the ids inserted. One multi-row
        ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` per chunk."""
        stored: set[str] = set()
        for i in range(0, len(rows), _CHUNK):
            part = rows[i : i + _CHUNK]
            params: list[Any] = []
            for r in part:
                params += self._values(r)
            cur.execute(self._insert_sql(len(part)), params)
            stored.update(rid for (rid,) in cur.fetchall())
        return stored

    def _values(self, r: dict[str, Any]) -> tuple[Any, ...]:
        """A report row's values in ``REPORT_COLUMNS`` order, as the columns store them."""
        return (r["report_id"], r["agent_id"], r["school_uai"], r["room"], self.stamp(r["taken_at"]),
                self.stamp(r["received_at"]), r["payload_json"])

    def _insert_sql(self, n: int) -> str:
        sql = self._insert_reports_sql.get(n)
        if sql is None:
            values = ", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * n)
            sql = self._insert_reports_sql[n] = (
                f"INSERT INTO reports ({', '.join(REPORT_COLUMNS)}) VALUES {values} "
                "ON CONFLICT (report_id) DO NOTHING RETURNING report_id")
        return sql

    def count_reports(self, cur: Any, counts: dict[str, int]) -> None:
        """Count stored reports against their schools' verdicts (school -> how many), in school order:
        SQLite's :meth:`store`, and the same upsert alone on either database (bench/evaluate)."""
        if not counts:
            return
        first = Level.no_data.value
        ordered = sorted(counts.items())
        if self.pg:
            cur.execute(_PG_COUNT, [first, *_arrays(ordered)])
            return
        cur.executemany(_SQLITE_COUNT, [(u, first, n) for u, n in ordered])

    def insert_sets(self, cur: Any, packed: Sequence[tuple[Packed, tuple[Any, ...]]]) -> None:
        """Sample sets, each with its row (``SET_COLUMNS`` order), and any of their layouts not stored yet
        (a layout is written with the first set that uses it). For SQLite's :meth:`store`, and for
        sets that come from no report (tests, benchmarks)."""
        if not packed:
            return
        rows = [row for _, row in packed]
        cur.executemany(self.sql_layout, _layouts(packed))
        if self.pg:  # one statement over one array per column, its values sent in binary
            cur.execute(_PG_SETS, _arrays(rows))
            return
        cur.executemany(_SQLITE_SET, rows)


def _readings(rows: Sequence[dict[str, Any]], stamp: Callable[[Any], Any]) -> list[tuple[Any, ...]]:
    """(report, taken at, displays) of the report rows that have a displays reading."""
    return [(r["report_id"], stamp(r["taken_at"]), r["displays"]) for r in rows
            if r.get("displays") is not None]


def _same(value: Any) -> Any:
    return value


def _layouts(sets: Sequence[tuple[Packed, tuple[Any, ...]]]) -> list[tuple[str, str]]:
    """The layouts these sets use, once each: (digest, metric names one per line)."""
    return list({p.layout: "\n".join(p.metrics) for p, _ in sets}.items())


def _arrays(rows: Sequence[tuple[Any, ...]], width: int | None = None) -> list[list[Any]]:
    """Rows as one list per column (for PostgreSQL's ``unnest()`` over arrays); ``width`` columns of
    nothing when there is no row."""
    if not rows and width is not None:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*rows, strict=True)]


def for_engine(engine: Engine | Connection) -> Statements:
    """The statements of an engine's (or a connection's) database, made once per dialect and driver."""
    dialect = engine.dialect
    key = f"{dialect.name}+{dialect.driver}"
    made = _MADE.get(key)
    if made is None:
        made = _MADE[key] = Statements(dialect)
    return made


def on(conn: Connection) -> tuple[Statements, Any]:
    """The statements and a DBAPI cursor of a SQLAlchemy connection, in its transaction (for the
    paths that store one report at a time, and for tests and benchmarks)."""
    return for_engine(conn), conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]


def report_row(report: Report, received_at: datetime, raw: str | None = None,
               shift: timedelta = timedelta(0)) -> dict[str, Any]:
    """A report's row but its ``agent_id``, dated ``shift`` after the report says (a clock that was off);
    the payload is JSON text (``payload_json``): ``raw``, the report as received, or else the model's
    JSON (not a dict for a JSON type to write again); ``displays``: what the agent's row keeps of its
    displays reading, or None."""
    return {"report_id": str(report.report_id), "school_uai": report.school_uai, "room": report.room,
            "taken_at": report.taken_at + shift, "received_at": received_at,
            "payload_json": report.model_dump_json() if raw is None else raw,
            "displays": report_displays(report)}
