"""Ingest's writes in SQLAlchemy Core: the hot path of the collector (bench/ingest).

The ORM's unit of work costs far more than the statements themselves for rows
that are written once and never updated: a report row, its samples. Here they are
plain statements on the session's connection, in the session's transaction:

* the report row with ``INSERT ... ON CONFLICT (report_id) DO NOTHING RETURNING``,
  so a duplicate (even one racing in from another request or process) is seen
  as no row returned, without a prior SELECT or a savepoint;
* the samples in one executemany (:func:`insert_sample_rows`, for the group commit of
  collector/ingest_writer.py: plain tuples through the driver, SQLite's ``executemany``
  or PostgreSQL's ``COPY``, without SQLAlchemy's per-row parameter processing).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, select
from sqlalchemy.exc import IntegrityError

from collector.models import MeasurementRow, ReportRow

_R: Table = ReportRow.__table__  # type: ignore[assignment]
_M: Table = MeasurementRow.__table__  # type: ignore[assignment]
_INSERT_REPORT: dict[str, Any] = {}  # dialect name -> the statement, built once
SAMPLE_COLUMNS = ("report_id", "school_uai", "room", "device", "metric", "value", "taken_at", "limited_by")


def _insert_report_stmt(dialect: str) -> Any:
    stmt = _INSERT_REPORT.get(dialect)
    if stmt is None:
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            stmt = pg_insert(_R).on_conflict_do_nothing(index_elements=[_R.c.report_id]).returning(
                _R.c.report_id)
        elif dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            stmt = sqlite_insert(_R).on_conflict_do_nothing(index_elements=[_R.c.report_id]).returning(
                _R.c.report_id)
        else:
            stmt = _R.insert()  # no portable ON CONFLICT: a duplicate shows as an IntegrityError
        _INSERT_REPORT[dialect] = stmt
    return stmt


def insert_stmt(dialect: str) -> Any:
    """The report insert that skips duplicates (``RETURNING`` the ids inserted), or None on a database
    without ``ON CONFLICT``."""
    return _insert_report_stmt(dialect) if dialect in ("postgresql", "sqlite") else None


def insert_report(conn: Connection, row: dict[str, Any]) -> bool:
    """Insert a report row; False when a report with its ``report_id`` is already stored."""
    dialect = conn.dialect.name
    if dialect in ("postgresql", "sqlite"):
        return conn.execute(_insert_report_stmt(dialect), row).first() is not None
    try:
        with conn.begin_nested():
            conn.execute(_insert_report_stmt(dialect), row)
    except IntegrityError:
        if conn.scalar(select(_R.c.report_id).where(_R.c.report_id == row["report_id"])) is None:
            raise  # not a duplicate: a real integrity problem must not pass as one
        return False
    return True


def insert_samples(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert sample rows in one executemany."""
    if rows:
        conn.execute(_M.insert(), list(rows))


def insert_sample_rows(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert sample rows given as tuples in :data:`SAMPLE_COLUMNS` order (``taken_at`` a datetime)."""
    if not rows:
        return
    dialect = conn.dialect.name
    columns = ", ".join(SAMPLE_COLUMNS)
    if dialect == "sqlite":  # taken_at stored as SQLAlchemy stores it: its own bind processor
        proc = _M.c.taken_at.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        assert proc is not None
        text: dict[Any, str] = {}
        data = []
        for r in rows:
            at = text.get(r[6])
            if at is None:
                at = text[r[6]] = proc(r[6])
            data.append((r[0], r[1], r[2], r[3], r[4], r[5], at, r[7]))
        conn.exec_driver_sql(f"INSERT INTO {_M.name} ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", data)
        return
    if dialect == "postgresql" and conn.dialect.driver == "psycopg":
        conn.execute(select(1))  # the transaction has begun on this connection
        cur: Any = conn.connection.cursor()  # psycopg's: it has COPY
        try:
            with cur.copy(f"COPY {_M.name} ({columns}) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row(r)
        finally:
            cur.close()
        return
    insert_samples(conn, [dict(zip(SAMPLE_COLUMNS, r, strict=True)) for r in rows])
