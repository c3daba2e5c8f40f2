"""The equipment judge: one pure function from a school's facts and the profile's equipment rules to the
equipment part of its verdict (config/equipment.py). Nothing here does I/O; collector/equipment/facts.py
reads the facts from the store.

What counts, by need (docs/requirements.md, "Equipment"):

- **projection**, per room: each projector or interactive display in the latest displays reading of a
  machine of the room (any role but ``mobile``: a laptop of a mobile class goes from room to room), and
  the projectors, interactive displays and whiteboards declared there. A teacher machine's reading can
  show an absence: every display cabled to it answers its EDID, even switched off (the EDID memory is
  powered by the computer through the cable).
- **teacher_computer**, per room: the machines enrolled with the role ``teacher``, and those declared.
- **mobile_device**, for the school: the machines enrolled with the role ``mobile``, and the tablets and
  laptops declared in any room or for the school.
- **mdm**, **charging_cabinet**: declared only.

A class is a room where a teacher or pupil machine is enrolled, where a machine (not a mobile one) sees
a projection display, or where a projection system or a teacher computer is declared. Projection systems
or teacher computers declared for the school as a whole (a projector on a cart) make up, one each, for
rooms without their own.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from collector.db.displays import Display
from config.equipment import (
    NEED_OF,
    DeclaredBy,
    EquipmentEvidence,
    EquipmentOutcome,
    EquipmentStatus,
    EquipmentVerdict,
    Item,
    SeenBy,
    Sign,
    Value,
)
from config.profile import EquipmentRule, Need
from config.readiness import level_of

PROJECTION_KINDS = ("projector", "interactive_display")
CLASS_ROLES = ("teacher", "pupil")
NO_ROOM = "(no room known)"


# The judge's notes, in English; collector/dashboard/rule_words.py reads them back to translate them (the
# French forms are in collector/dashboard/equipment_words.py, with the same fields).
NOTES = {
    "made_up": "made up by one declared for the whole school",
    "classes_unknown": ("the school's class count is unknown: import the counts file or set it "
                        "(socle-collector school set --classes)"),
    "no_room": "{unknown} class(es) with no machine enrolled and nothing declared: no room known",
    "more_rooms": "{rooms} rooms for {classes} classes: {passing} meet it",
    "not_applicable": "not applicable: no {need} seen or declared",
    "scale": "{at_least} per {per_classes} classes × {classes} classes = {needed}",
    "short": "{count} < {needed}",
}

@dataclass(frozen=True)
class Machine:
    """An enrolled machine seen within the window, and its latest displays reading (if any)."""

    hostname: str
    role: str | None
    room: str
    last_seen: datetime
    displays_at: datetime | None = None
    displays: tuple[Display, ...] = ()


@dataclass(frozen=True)
class Declaration:
    """One declared item of a room ("" = the school as a whole)."""

    room: str
    item: Item
    count: int
    by: str
    at: datetime
    source: str
    note: str | None = None


@dataclass(frozen=True)
class Facts:
    """What the equipment judge reads about one school."""

    classes: int | None
    classes_origin: str | None
    machines: tuple[Machine, ...] = ()
    declared: tuple[Declaration, ...] = ()


@dataclass(frozen=True)
class Measured:
    """What agents showed of a need in a room: how many, who saw them, and since when an absence is shown."""

    count: int
    seen: list[SeenBy]
    absence_shown_at: datetime | None = None


def _projection(machines: Iterable[Machine], room: str) -> Measured:
    seen: list[SeenBy] = []
    readers: list[datetime] = []
    count = 0
    for m in machines:
        if m.room != room or m.role == "mobile" or m.displays_at is None:
            continue
        if m.role == "teacher":
            readers.append(m.displays_at)
        found = [d for d in m.displays if d.kind in PROJECTION_KINDS]
        count += len(found)
        seen += [SeenBy(hostname=m.hostname, role=m.role, at=m.displays_at, what=f"{d.label} ({d.kind})",
                        sign="display", displays=[f"{d.label} ({d.kind})"]) for d in found]
        if not found:  # what it saw instead, so the page shows the room was looked at
            others = [f"{d.label} ({d.kind})" for d in m.displays]
            seen.append(SeenBy(hostname=m.hostname, role=m.role, at=m.displays_at, sign="no_projection",
                               what=f"no projection display: {', '.join(others) or 'no display'}",
                               displays=others))
    return Measured(count, seen, max(readers) if readers else None)


def _teacher(machines: Iterable[Machine], room: str) -> Measured:
    seen = []
    for m in machines:
        if m.room == room and m.role == "teacher":
            drives = [d.label for d in m.displays if d.kind in PROJECTION_KINDS]
            sign: Sign = ("teacher_drives" if drives else "teacher_no_projection" if m.displays_at
                          else "teacher_no_reading")
            what = {"teacher_drives": "teacher machine, drives " + ", ".join(drives),
                    "teacher_no_projection": "teacher machine, no projection display in its latest reading",
                    "teacher_no_reading": "teacher machine, no displays reading"}[sign]
            seen.append(SeenBy(hostname=m.hostname, role=m.role, at=m.last_seen, what=what, sign=sign,
                               displays=drives))
    return Measured(len(seen), seen)


def measured(need: Need, room: str, machines: Sequence[Machine]) -> Measured:
    """What the agents show of ``need`` in ``room`` ("" for the school's mobile devices)."""
    if need is Need.projection and room:
        return _projection(machines, room)
    if need is Need.teacher_computer and room:
        return _teacher(machines, room)
    if need is Need.mobile_device and not room:
        mobile = [SeenBy(hostname=m.hostname, role=m.role, at=m.last_seen, what="mobile machine",
                         sign="mobile")
                  for m in machines if m.role == "mobile"]
        return Measured(len(mobile), mobile)
    return Measured(0, [])


def resolve(need: Need, room: str, got: Measured, declarations: Sequence[Declaration]) -> Value:
    """The figure for a need in a room from what was measured and what was declared, and how they agree.

    A measured count above the declared one wins: the agents saw them. A lower one wins only when it
    can show an absence and is newer than every declaration (the declaration is then stale); otherwise
    the declaration stands and the disagreement is shown.
    """
    decl = [DeclaredBy(item=d.item.value, count=d.count, by=d.by, at=d.at, source=d.source, note=d.note)
            for d in declarations]
    declared = sum(d.count for d in declarations) if declarations else None
    has_measure = got.count > 0 or got.absence_shown_at is not None
    base = {"need": need, "room": room, "measured": got.seen, "declared": decl,
            "measured_count": got.count if has_measure else None, "declared_count": declared}
    if declared is None:
        return Value(count=got.count, origin="measured" if has_measure else "none", **base)
    if not has_measure:
        return Value(count=declared, origin="declared", **base)
    if got.count == declared:
        return Value(count=declared, origin="both", **base)
    said = f"declared {declared}, measured {got.count}"
    if got.count > declared:
        return Value(count=got.count, origin="measured", contradiction=said + ": the measured count is used",
                     **base)
    newest = max(d.at for d in declarations)
    if got.absence_shown_at is not None and got.absence_shown_at > newest:
        return Value(count=got.count, origin="measured", stale=True,
                     contradiction=said + ": the declaration is older than the measurement, which is used",
                     **base)
    return Value(count=declared, origin="declared",
                 contradiction=said + ": the declaration is used (what agents see is a lower bound)", **base)


def class_rooms(facts: Facts) -> list[str]:
    """The rooms judged as classes, in order."""
    rooms = {m.room for m in facts.machines if m.role in CLASS_ROLES
             or (m.role != "mobile" and any(d.kind in PROJECTION_KINDS for d in m.displays))}
    rooms |= {d.room for d in facts.declared
              if d.room and NEED_OF[d.item] in (Need.projection, Need.teacher_computer)}
    return sorted(rooms, key=lambda r: (r.casefold(), r))


def values(facts: Facts, rooms: Sequence[str]) -> dict[tuple[Need, str], Value]:
    """Every value the rules read: per class room for projection and teacher computers, for the school
    ("") for all needs (the shared projection systems and computers, the mobile devices, MDM, cabinet)."""
    out: dict[tuple[Need, str], Value] = {}
    for need in Need:
        per_room = need in (Need.projection, Need.teacher_computer)
        for room in ((*rooms, "") if per_room else ("",)):
            decl = [d for d in facts.declared if NEED_OF[d.item] is need and (d.room == room or not per_room)]
            out[need, room] = resolve(need, room, measured(need, room, facts.machines), decl)
    return out


def _class_rule(rule: EquipmentRule, facts: Facts, rooms: Sequence[str],
                vals: dict[tuple[Need, str], Value]) -> EquipmentOutcome:
    """A per-class rule: each class room needs ``at_least``; the school's shared ones make up for some."""
    shared = vals[rule.need, ""].count
    evidence: list[EquipmentEvidence] = []
    passing = 0
    for room in rooms:
        v = vals[rule.need, room]
        status: EquipmentStatus = "pass" if v.count >= rule.at_least else "fail"
        note = None
        if status == "fail" and shared > 0:
            shared, status, note = shared - 1, "pass", NOTES["made_up"]
        passing += status == "pass"
        evidence.append(EquipmentEvidence(subject=room, outcome=status, value=v, needed=rule.at_least,
                                          note=note))
    head = {"rule_id": rule.id, "title": rule.title, "source": rule.source, "proposed": rule.proposed,
            "level": rule.level.value, "scope": rule.scope, "need": rule.need, "required": rule.required,
            "needed": rule.at_least, "evidence": evidence}
    missing = [e.subject for e in evidence if e.outcome == "fail"]
    if facts.classes is None:
        return EquipmentOutcome(outcome="no_data", met=passing, missing=missing,
                                note=NOTES["classes_unknown"], **head)
    unknown = max(0, facts.classes - len(rooms))
    if unknown:
        evidence.append(EquipmentEvidence(subject=NO_ROOM, outcome="fail", needed=rule.at_least * unknown,
                                          note=NOTES["no_room"].format(unknown=unknown)))
        missing.append(NO_ROOM)
    met = min(passing, facts.classes)
    ok = met >= facts.classes
    note = (NOTES["more_rooms"].format(rooms=len(rooms), classes=facts.classes, passing=passing)
            if len(rooms) > facts.classes else None)
    return EquipmentOutcome(outcome="pass" if ok else "fail", met=met, of=facts.classes,
                            missing=[] if ok else missing, note=note, **head)


def _school_rule(rule: EquipmentRule, facts: Facts, vals: dict[tuple[Need, str], Value]) -> EquipmentOutcome:
    """A school rule: ``at_least`` (per ``per_classes`` classes), only where ``where_present`` is."""
    v = vals[rule.need, ""]
    head = {"rule_id": rule.id, "title": rule.title, "source": rule.source, "proposed": rule.proposed,
            "level": rule.level.value, "scope": rule.scope, "need": rule.need, "required": rule.required}
    if rule.where_present is not None and vals[rule.where_present, ""].count == 0:
        return EquipmentOutcome(outcome="not_applicable", **head,
                                note=NOTES["not_applicable"].format(need=rule.where_present.value))
    if rule.per_classes is None:
        needed = rule.at_least
        scale = None
    elif facts.classes is None:
        return EquipmentOutcome(outcome="no_data", met=v.count, **head, note=NOTES["classes_unknown"])
    else:
        needed = math.ceil(rule.at_least * facts.classes / rule.per_classes)
        scale = NOTES["scale"].format(at_least=rule.at_least, per_classes=rule.per_classes,
                                       classes=facts.classes, needed=needed)
    count = (v.declared_count or 0) if rule.declared_only else v.count
    status: EquipmentStatus = "pass" if count >= needed else "fail"
    evidence = [EquipmentEvidence(subject="school", outcome=status, value=v, needed=needed, note=scale)]
    short = NOTES["short"].format(count=count, needed=needed) if status == "fail" else None
    return EquipmentOutcome(outcome=status, needed=needed, met=count, of=facts.classes,
                            missing=[] if status == "pass" else ["school"], evidence=evidence, note=short,
                            **head)


def judge_equipment(rules: Sequence[EquipmentRule], facts: Facts) -> EquipmentVerdict:
    """The equipment part of a school's verdict: every rule's outcome with its evidence, and a level."""
    rooms = class_rooms(facts)
    vals = values(facts, rooms)
    outcomes = [_class_rule(r, facts, rooms, vals) if r.scope == "class" else _school_rule(r, facts, vals)
                for r in rules]
    judged = [(r, o.outcome) for r, o in zip(rules, outcomes, strict=True) if o.outcome != "not_applicable"]
    level = level_of([r for r, _ in judged], [o for _, o in judged]).value if judged else "no_data"
    shown = [v for v in vals.values() if v.origin != "none" or v.room]
    return EquipmentVerdict(level=level, classes=facts.classes, classes_origin=facts.classes_origin,
                            rooms=list(rooms), outcomes=outcomes, values=shown)
