"""One report stored on its own, outside the writer: the browser speed test's result, tests, benchmarks.

It prepares the report as ingest does (collector/ingest/group.py: its row, its
samples, its place in time) and runs the writer's own statements
(collector/ingest/statements.py) in the caller's transaction, so a report stored
here is stored exactly as ingest stores it: with its sample set, counted
against its school's verdict, its agent marked as seen.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from collector.auth.identity import wrong_school
from collector.db.models import AgentRow
from collector.edge.metrics import count_report
from collector.ingest.group import prepare
from collector.ingest.statements import on
from config.wire import Report


def ingest(session: Session, agent: AgentRow, report: Report, now: datetime) -> str:
    """Store a report once: ``stored``, or ``duplicate`` when its id is already here."""
    if report.school_uai != agent.school_uai:
        raise wrong_school(agent.school_uai, report.school_uai)
    ready = prepare(report, now)
    packed = ready.samples
    sets = [] if packed is None else [(packed, packed.row(ready.report_id, report.school_uai, report.room))]
    sql, cur = on(session.connection())
    try:
        stored = sql.store(cur, [{**ready.row, "agent_id": agent.agent_id}], sets)
    finally:
        cur.close()
    status = "stored" if stored else "duplicate"  # a duplicate: already here, or raced in just now
    count_report(status)
    return status
