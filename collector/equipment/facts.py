"""The equipment facts of schools, read from the store: their class counts, their machines with each one's
latest displays reading, and what was declared (collector/equipment/rules.py judges them).

A machine's latest displays reading is kept on its agent's row by ingest (collector/db/displays.py),
so the pages read one small column per machine, never the reports' payloads."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, and_, case, func, select, true
from sqlalchemy.orm import Session

from collector.db.displays import WINDOW, kept_displays
from collector.db.engine import as_utc
from collector.db.models import AgentRow, DeclaredItem, School
from config.equipment import Item

from .rules import Declaration, Facts, Machine

_CHUNK = 500


_MANY = 5000  # more schools than this: every row read at once, the others left out here


def _in(column: Any, uais: Sequence[str]) -> list[Any]:
    if len(uais) > _MANY:
        return [true()]
    return [column.in_(uais[i : i + _CHUNK]) for i in range(0, len(uais), _CHUNK)]


class SchoolClasses(Protocol):
    """What the facts read of a school row: its UAI and class count (a :class:`School`, or a lighter row)."""

    @property
    def uai(self) -> str: ...
    @property
    def classes(self) -> int | None: ...
    @property
    def classes_origin(self) -> str | None: ...


def _agent_counts(since: datetime) -> list[Any]:
    """What :func:`facts_token` counts of the agents (of all, or of a school's when grouped)."""
    a = AgentRow
    live = a.revoked_at.is_(None)
    return [func.count(), func.count(a.revoked_at), func.sum(a.equipment_changes),
            func.count(case((and_(live, a.last_seen_at >= since), 1))),
            func.count(case((and_(live, a.displays_at >= since), 1)))]


def _declared_counts() -> list[Any]:
    """What :func:`facts_token` counts of the declarations (of all, or of a school's when grouped)."""
    d = DeclaredItem
    return [func.count(), func.max(d.id), func.max(d.declared_at), func.sum(d.count)]


def facts_token(conn: Connection, now: datetime) -> tuple[Any, ...]:
    """A value that moves whenever the facts :func:`school_facts` reads as of ``now`` may have changed,
    for any school: what keeps a judgement of the facts compares it (collector/dashboard/equipment_kept.py).

    Agents: how many, how many revoked, the sum of their ``equipment_changes`` (ingest counts each new
    displays reading and each return within :data:`WINDOW`, ``agent role`` each role set: the sum only
    grows while no agent is removed, which lowers the count), and how many live ones were seen and have
    a reading within the window as of ``now`` (one leaving lowers a count; one coming back adds to the
    sum). Declarations: how many, the newest id and time, and their sum (a change within the same
    clock tick). Class counts: how many, the newest time one was set, and their sum."""
    agents = conn.execute(select(*_agent_counts(now - WINDOW))).one()
    declared = conn.execute(select(*_declared_counts())).one()
    classes = conn.execute(select(func.count(School.classes_at), func.max(School.classes_at),
                                  func.sum(School.classes))).one()
    return (*agents, *declared, *classes)


def school_tokens(conn: Connection, now: datetime) -> dict[str, tuple[Any, ...]]:
    """:func:`facts_token`'s counts school by school, for every school: those whose token moved are the
    ones whose facts may have changed."""
    agents = {uai: tuple(rest) for uai, *rest in conn.execute(
        select(AgentRow.school_uai, *_agent_counts(now - WINDOW)).group_by(AgentRow.school_uai))}
    declared = {uai: tuple(rest) for uai, *rest in conn.execute(
        select(DeclaredItem.school_uai, *_declared_counts()).group_by(DeclaredItem.school_uai))}
    return {uai: (classes, at, agents.get(uai), declared.get(uai)) for uai, classes, at in
            conn.execute(select(School.uai, School.classes, School.classes_at))}


def school_classes(session: Session, uais: Sequence[str]) -> list[SchoolClasses]:
    """The class counts of these schools, as :func:`school_facts` reads them."""
    wanted = set(uais)
    rows = select(School.uai, School.classes, School.classes_origin)
    return [r for where in _in(School.uai, uais) for r in session.execute(rows.where(where))
            if r.uai in wanted]


def school_facts(session: Session, schools: Sequence[SchoolClasses], now: datetime) -> dict[str, Facts]:
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
