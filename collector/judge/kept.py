"""Each school's recent sample sets as the judge reads them, kept by the sweep.

A full re-evaluation (a changed profile threshold, a new pupil count, the
clock) would otherwise read every sample set in the rules' windows: 30 nights of
50,000 schools are 1.5 million rows, scattered through the table night after
night. The sweep keeps instead, per school, the :class:`~collector.judge.columns.Columns`
it judged the school's sets from: one row per school, the profile's metrics
only, packed. Judging those columns gives the verdict the sets give (the same
code, :func:`collector.judge.columns.judge_columns`).

A school's columns are used only while they hold every set the judge needs:
made for the profile's metrics (``metrics``, a digest of their names), holding
every set from early enough (``since_us``), and made with at least the school's
report count now (``reports``: ingest counts each report in the same
transaction that stores its set, so a count that has not moved means no set
came since). Otherwise the school is judged from its sets, and the sweep keeps
its new columns.
"""

from __future__ import annotations

import json
import struct
from array import array
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Table, select

from collector.db.sample_sets import layout_digest
from collector.db.streaming import stream
from collector.db.verdict_tables import SchoolColumnsRow, SchoolVerdict
from collector.judge.columns import Columns
from collector.judge.plan import Plan

_C: Table = SchoolColumnsRow.__table__  # type: ignore[assignment]
_V: Table = SchoolVerdict.__table__  # type: ignore[assignment]
FIELDS = ("school_uai", "metrics", "since_us", "reports", "sets", "times", "present", "vals", "extra")
READ = ("school_uai", "sets", "times", "present", "vals", "extra")
BATCH = 500  # schools per IN (...) query
_PG_TYPES = ("varchar", "varchar", "int8", "int4", "int4", "bytea", "bytea", "bytea", "text")  # FIELDS'
FLUSH = 2000  # schools' columns written per transaction by a :class:`Keeper`


def metrics_key(plan: Plan) -> str:
    """The digest of the plan's metric names, in order: columns made for other metrics do not serve."""
    return layout_digest(plan.metrics)


Encoded = tuple[int, bytes, bytes, bytes, str]  # sets, times, present, vals, extra


def encode(columns: Columns) -> Encoded:
    """``sets, times, present, vals, extra`` of stored columns."""
    times, cols, rooms, devices, limited = columns
    present = [i for i, col in enumerate(cols) if col is not None]
    extra: dict[str, Any] = {}
    if len(set(rooms)) == 1 and len(set(devices)) == 1:
        extra["room"], extra["device"] = rooms[0], devices[0]
    else:
        extra["rooms"], extra["devices"] = list(rooms), list(devices)
    if limited is not None:
        extra["limited"] = {str(i): sorted(m) for i, m in enumerate(limited) if m}
    flat = [v for i in present for v in cols[i] or ()]
    return (len(times), array("q", times).tobytes(), array("H", present).tobytes(),
            struct.pack(f"<{len(flat)}d", *flat), json.dumps(extra, separators=(",", ":")))


def decode(row: Sequence[Any], width: int) -> Columns:
    """The :class:`Columns` of a stored row (``READ`` but the school; ``width``: the plan's metric
    count)."""
    n, times, present, vals, extra = row
    at = array("q")
    at.frombytes(bytes(times))
    which = array("H")
    which.frombytes(bytes(present))
    flat = struct.unpack(f"<{n * len(which)}d", vals)
    cols: list[Sequence[float] | None] = [None] * width
    for k, i in enumerate(which):
        cols[i] = flat[k * n : (k + 1) * n]
    more = json.loads(extra)
    rooms = more["rooms"] if "rooms" in more else [more["room"]] * n
    devices = more["devices"] if "devices" in more else [more["device"]] * n
    limited: list[set[str]] | None = None
    if "limited" in more:
        limited = [set() for _ in range(n)]
        for i, names in more["limited"].items():
            limited[int(i)] = set(names)
    return Columns(at.tolist(), cols, rooms, devices, limited)


def kept(conn: Connection, plan: Plan, uais: Sequence[str] | None = None,
         span: tuple[str, str] | None = None) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """(school, its kept row: ``READ`` but the school, for :func:`decode`) of every school (or of
    ``uais``, or of those in ``span``) whose columns hold every set a judge with ``plan`` needs, the
    sets from its ``horizon`` (µs) on."""
    key, since_us = metrics_key(plan), plan.horizon
    if uais is None:
        sql = (f"SELECT {', '.join(f'c.{f}' for f in READ)} FROM {_C.name} c JOIN {_V.name} v "
               "ON v.school_uai = c.school_uai WHERE c.metrics = ? AND c.since_us <= ? "
               "AND c.reports >= v.reports" + (" AND c.school_uai BETWEEN ? AND ?" if span else ""))
        for row in stream(conn, sql, (key, since_us, *(span or ())), "socle_school_columns"):
            yield row[0], row[1:]
        return
    query = select(*(_C.c[f] for f in READ)).join(_V, _V.c.school_uai == _C.c.school_uai).where(
        _C.c.metrics == key, _C.c.since_us <= since_us, _C.c.reports >= _V.c.reports)
    for i in range(0, len(uais), BATCH):
        for row in conn.execute(query.where(_C.c.school_uai.in_(uais[i : i + BATCH]))):
            yield row[0], tuple(row[1:])


def write(conn: Connection, plan: Plan, items: Sequence[tuple[str, int, Encoded]]) -> None:
    """Store schools' columns ((school, report count when its sets were read, :func:`encode`'s row)),
    made from the sets from the plan's ``horizon`` on, replacing any kept before, in the caller's
    transaction."""
    if not items:
        return
    key = metrics_key(plan)
    rows = [(uai, key, plan.horizon, reports, *encoded) for uai, reports, encoded in items]
    uais = [r[0] for r in rows]
    if conn.dialect.name == "postgresql":  # psycopg: the others away, then COPY
        conn.execute(select(1))  # the transaction has begun on this connection
        cur: Any = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cur.execute(f"DELETE FROM {_C.name} WHERE school_uai = ANY(%s)", (uais,))
            with cur.copy(f"COPY {_C.name} ({', '.join(FIELDS)}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(_PG_TYPES)
                for row in rows:
                    copy.write_row(row)
        finally:
            cur.close()
        return
    update = ", ".join(f"{f} = excluded.{f}" for f in FIELDS[1:])
    sql = (f"INSERT INTO {_C.name} ({', '.join(FIELDS)}) VALUES ({', '.join('?' for _ in FIELDS)}) "
           f"ON CONFLICT (school_uai) DO UPDATE SET {update}")
    conn.exec_driver_sql(sql, rows)


class Keeper:
    """Collects the columns a judge made from sets (:func:`encode`'s rows) and stores them, :data:`FLUSH`
    schools per transaction of its own (a full re-evaluation makes tens of thousands)."""

    def __init__(self, engine: Engine, plan: Plan, counts: dict[str, int]) -> None:
        self.engine, self.plan, self.counts = engine, plan, counts
        self.pending: list[tuple[str, int, Encoded]] = []

    def keep(self, uai: str, encoded: Encoded) -> None:
        """Keep ``uai``'s columns (only for a school whose report count was read before its sets)."""
        if uai in self.counts:
            self.pending.append((uai, self.counts[uai], encoded))
            if len(self.pending) >= FLUSH:
                self.flush()

    def flush(self) -> None:
        """Store what is pending."""
        if self.pending:
            with self.engine.begin() as conn:
                write(conn, self.plan, self.pending)
            self.pending = []

