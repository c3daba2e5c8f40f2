"""The equipment facts of schools, read from the store: their class counts, their machines with each one's
latest displays reading, and what was declared (collector/equipment/rules.py judges them).

A machine's latest displays reading is kept on its agent's row by ingest (collector/db/displays.py),
so the pages read one small column per machine, never the reports' payloads."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, true
from sqlalchemy.orm import Session

from collector.db.displays import kept_displays
from collector.db.engine import as_utc
from collector.db.models import AgentRow, DeclaredItem, School
from config.equipment import Item

from .rules import Declaration, Facts, Machine

# A machine counts while it reports: one silent for longer is left out (its room may have changed).
WINDOW = timedelta(days=30)
_CHUNK = 500


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
