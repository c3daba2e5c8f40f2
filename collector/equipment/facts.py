"""The equipment facts of schools, read from the store: their class counts, their machines with each one's
latest displays reading, and what was declared (collector/equipment/rules.py judges them).

A machine's latest displays reading is kept on its agent's row by ingest (``agents.displays``, the
displays of the newest report that has a reading, and ``displays_at``, that report's time: migration
0022), so the pages read one small column per machine, never the reports' payloads."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, true
from sqlalchemy.orm import Session

from collector.db.engine import as_utc
from collector.db.models import AgentRow, DeclaredItem, School
from config.equipment import Item
from config.wire import Report

from .rules import Declaration, Display, Facts, Machine

# A machine counts while it reports: one silent for longer is left out (its room may have changed).
WINDOW = timedelta(days=30)
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


def report_displays(report: Report) -> str | None:
    """What ingest keeps of a report's displays reading on its agent's row: the displays (kind and label)
    as JSON text; None when the report has no reading (:func:`displays_reading`)."""
    for result in report.results:
        if result.probe == "displays":
            found = displays_reading({"results": [result.model_dump(mode="json", include={
                "probe", "status", "measurement"})]})
            return None if found is None else json.dumps([[d.kind, d.label] for d in found])
    return None


def kept_displays(text: str | None) -> tuple[Display, ...]:
    """An agent row's kept displays back (:func:`report_displays`)."""
    return tuple(Display(kind=k, label=label) for k, label in json.loads(text)) if text else ()


_MANY = 5000  # more schools than this: every row read at once, the others left out here


def _in(column: Any, uais: Sequence[str]) -> list[Any]:
    if len(uais) > _MANY:
        return [true()]
    return [column.in_(uais[i : i + _CHUNK]) for i in range(0, len(uais), _CHUNK)]


def school_facts(session: Session, schools: Sequence[School], now: datetime) -> dict[str, Facts]:
    """The facts of each school, by UAI: machines seen in the last :data:`WINDOW`, declarations."""
    uais = [s.uai for s in schools]
    machines: dict[str, list[Machine]] = defaultdict(list)
    declared: dict[str, list[Declaration]] = defaultdict(list)
    since = now - WINDOW
    wanted = set(uais)
    for where in _in(AgentRow.school_uai, uais):
        agents = (select(AgentRow.school_uai, AgentRow.hostname, AgentRow.role, AgentRow.room,
                         AgentRow.last_seen_at, AgentRow.displays_at, AgentRow.displays)
                  .where(where, AgentRow.revoked_at.is_(None), AgentRow.last_seen_at >= since)
                  .order_by(AgentRow.room, AgentRow.hostname))
        for uai, hostname, role, room, seen, at, displays in session.execute(agents):
            last = None if seen is None else as_utc(seen)
            if last is None or last < since or uai not in wanted:
                continue
            reading = None if at is None else as_utc(at)
            if reading is not None and reading < since:  # a reading from before the window says too little
                reading, displays = None, None
            machines[uai].append(Machine(hostname=hostname, role=role, room=room, last_seen=last,
                                         displays_at=reading, displays=kept_displays(displays)))
    for where in _in(DeclaredItem.school_uai, uais):
        items = select(DeclaredItem).where(where).order_by(DeclaredItem.room, DeclaredItem.item)
        for d in session.scalars(items):
            if d.school_uai not in wanted:
                continue
            declared[d.school_uai].append(Declaration(room=d.room, item=Item(d.item), count=d.count,
                                                      by=d.declared_by, at=as_utc(d.declared_at),
                                                      source=d.source, note=d.note))
    return {s.uai: Facts(classes=s.classes, classes_origin=s.classes_origin,
                         machines=tuple(machines[s.uai]), declared=tuple(declared[s.uai])) for s in schools}
