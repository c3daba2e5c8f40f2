"""The equipment facts of schools, read from the store: their class counts, their machines with each one's
latest displays reading, and what was declared (collector/equipment/rules.py judges them)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from collector.db.engine import as_utc
from collector.db.models import AgentRow, DeclaredItem, ReportRow, School
from config.equipment import Item

from .rules import Declaration, Display, Facts, Machine

# A machine counts while it reports: one silent for longer is left out (its room may have changed).
WINDOW = timedelta(days=30)
# How many of a machine's latest reports are looked through for one with a displays reading.
LOOK_BACK = 5
_CHUNK = 500


def display_of(reading: dict[str, Any]) -> Display:
    """A display of a report's displays measurement: its kind and a name a person knows it by."""
    name = reading.get("name")
    if not name:
        maker = reading.get("manufacturer") or reading.get("pnp_id") or "display"
        code = reading.get("product_code_hex")
        name = f"{maker} {code}" if code else str(maker)
    return Display(kind=str(reading.get("kind") or "unknown"), label=str(name))


def displays_reading(payload: dict[str, Any]) -> tuple[Display, ...] | None:
    """The displays a report's ``displays`` result found; None when the report has no such reading (the
    probe did not run, or was unavailable or failed: that says nothing about what is attached)."""
    for result in payload.get("results") or ():
        if not isinstance(result, dict) or result.get("probe") != "displays":
            continue
        m = result.get("measurement")
        if result.get("status") not in ("ok", "degraded") or not isinstance(m, dict):
            return None
        return tuple(display_of(d) for d in m.get("displays") or () if isinstance(d, dict))
    return None


def _latest_displays(session: Session, agents: Sequence[AgentRow],
                     since: datetime) -> dict[str, tuple[datetime, tuple[Display, ...]]]:
    """Each agent's latest displays reading among its last :data:`LOOK_BACK` reports since ``since``, by
    agent id: the reports are ranked in one statement (through ix_reports_school_time), and only the
    payloads of those kept are read."""
    found: dict[str, tuple[datetime, tuple[Display, ...]]] = {}
    rank = func.row_number().over(partition_by=ReportRow.agent_id, order_by=ReportRow.taken_at.desc())
    for i in range(0, len(agents), _CHUNK):
        part = agents[i : i + _CHUNK]
        ranked = (select(ReportRow.report_id, rank.label("n"))
                  .where(ReportRow.school_uai.in_(sorted({a.school_uai for a in part})),
                         ReportRow.agent_id.in_([a.agent_id for a in part]), ReportRow.taken_at >= since)
                  .subquery())
        rows = session.execute(select(ReportRow.agent_id, ReportRow.taken_at, ReportRow.payload)
                               .join(ranked, ranked.c.report_id == ReportRow.report_id)
                               .where(ranked.c.n <= LOOK_BACK)
                               .order_by(ReportRow.agent_id, ReportRow.taken_at.desc()))
        for agent_id, taken_at, payload in rows:
            displays = None if agent_id in found else displays_reading(payload or {})
            if displays is not None:
                found[agent_id] = (as_utc(taken_at), displays)
    return found


def _in(column: Any, uais: Sequence[str]) -> list[Any]:
    return [column.in_(uais[i : i + _CHUNK]) for i in range(0, len(uais), _CHUNK)]


def school_facts(session: Session, schools: Sequence[School], now: datetime) -> dict[str, Facts]:
    """The facts of each school, by UAI: machines seen in the last :data:`WINDOW`, declarations."""
    uais = [s.uai for s in schools]
    machines: dict[str, list[Machine]] = defaultdict(list)
    declared: dict[str, list[Declaration]] = defaultdict(list)
    since = now - WINDOW
    for where in _in(AgentRow.school_uai, uais):
        seen = [(a, as_utc(a.last_seen_at)) for a in session.scalars(
                    select(AgentRow).where(where, AgentRow.revoked_at.is_(None))
                    .order_by(AgentRow.room, AgentRow.hostname)) if a.last_seen_at is not None]
        agents = [(a, last) for a, last in seen if last >= since]
        readings = _latest_displays(session, [a for a, _ in agents], since)
        for a, last in agents:
            at, displays = readings.get(a.agent_id, (None, ()))
            machines[a.school_uai].append(Machine(hostname=a.hostname, role=a.role, room=a.room,
                                                  last_seen=last, displays_at=at, displays=displays))
    for where in _in(DeclaredItem.school_uai, uais):
        query = select(DeclaredItem).where(where).order_by(DeclaredItem.room, DeclaredItem.item)
        for d in session.scalars(query):
            declared[d.school_uai].append(Declaration(room=d.room, item=Item(d.item), count=d.count,
                                                      by=d.declared_by, at=as_utc(d.declared_at),
                                                      source=d.source, note=d.note))
    return {s.uai: Facts(classes=s.classes, classes_origin=s.classes_origin,
                         machines=tuple(machines[s.uai]), declared=tuple(declared[s.uai])) for s in schools}
