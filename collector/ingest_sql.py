"""Ingest's writes in SQLAlchemy Core: the hot path of the collector (bench/ingest).

The ORM's unit of work costs far more than the statements themselves for rows
that are written once and never updated: a report row, its samples. Here they are
plain statements on the session's connection, in the session's transaction:

* the report row with ``INSERT ... ON CONFLICT (report_id) DO NOTHING RETURNING``,
  so a duplicate (even one racing in from another request or process) is seen
  as no row returned, without a prior SELECT or a savepoint;
* the payload as the JSON text pydantic already wrote (:func:`report_row`), not
  a dict for SQLAlchemy's JSON type to serialise again;
* the samples as one packed set per report (collector/sample_sets.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Connection, Table, Text, bindparam, cast, select, type_coerce
from sqlalchemy.exc import IntegrityError

from collector.models import ReportRow
from config.wire import Report

_R: Table = ReportRow.__table__  # type: ignore[assignment]
_INSERT_REPORT: dict[str, Any] = {}  # dialect name -> the statement, built once


def report_row(report: Report, received_at: datetime, raw: str | None = None) -> dict[str, Any]:
    """A report's row but its ``agent_id``; the payload is JSON text (``payload_json``), for the
    statements below: ``raw``, the report as received, or else the model's JSON."""
    return {"report_id": str(report.report_id), "school_uai": report.school_uai, "room": report.room,
            "taken_at": report.taken_at, "received_at": received_at,
            "payload_json": report.model_dump_json() if raw is None else raw}


def _payload(dialect: str) -> Any:
    """The payload's parameter: JSON text stored as it is (cast to ``json`` on PostgreSQL)."""
    if dialect == "postgresql":
        return cast(bindparam("payload_json", type_=Text), JSON)
    return type_coerce(bindparam("payload_json"), Text)


def _insert_report_stmt(dialect: str) -> Any:
    stmt = _INSERT_REPORT.get(dialect)
    if stmt is None:
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            stmt = pg_insert(_R).values(payload=_payload(dialect)).on_conflict_do_nothing(
                index_elements=[_R.c.report_id]).returning(_R.c.report_id)
        elif dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            stmt = sqlite_insert(_R).values(payload=_payload(dialect)).on_conflict_do_nothing(
                index_elements=[_R.c.report_id]).returning(_R.c.report_id)
        else:
            # no portable ON CONFLICT: a duplicate shows as an IntegrityError
            stmt = _R.insert().values(payload=_payload(dialect))
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
