"""Ingest's writes in SQLAlchemy Core: the hot path of the collector (bench/ingest).

The ORM's unit of work costs far more than the statements themselves for rows
that are written once and never updated: a report row, its samples. Here they are
plain statements on the session's connection, in the session's transaction:

* the report row with ``INSERT ... ON CONFLICT (report_id) DO NOTHING RETURNING``,
  so a duplicate (even one racing in from another request or process) is seen
  as no row returned, without a prior SELECT or a savepoint;
* the samples in one executemany.
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
