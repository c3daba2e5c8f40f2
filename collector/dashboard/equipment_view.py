"""What the equipment verdicts say is missing, in words, and its counts per commune and département: what
the school page, the equipment page and the exports show (collector/dashboard/equipment.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from collector.auth.access import SchoolLike, departement_of
from collector.equipment.rules import NO_ROOM
from config.equipment import EquipmentVerdict


@dataclass(frozen=True, slots=True)
class Missing:
    """One thing a school lacks: in a class's room (or in ``classes`` classes no room is known of), or for
    the school (``room`` empty); how many were found of how many needed, and the rule it fails."""

    uai: str
    room: str
    need: str
    rule_id: str
    source: str
    found: int
    needed: int
    classes: int = 1


def missing_of(uai: str, eq: EquipmentVerdict) -> list[Missing]:
    """What the equipment verdict says is missing, rule by rule, room by room."""
    out = []
    for o in eq.outcomes:
        if o.outcome != "fail":
            continue
        for e in o.evidence:
            if e.outcome != "fail":
                continue
            found = e.value.count if e.value is not None else 0
            per = o.needed or 1
            room = "" if o.scope == "school" else e.subject
            classes = e.needed // per if e.subject == NO_ROOM else 1
            out.append(Missing(uai=uai, room=room, need=o.need.value, rule_id=o.rule_id, source=o.source,
                               found=found, needed=e.needed, classes=classes))
    return out


def message(t: Callable[..., str], m: Missing) -> str:
    """A missing item in words: "CM1 : aucun système de projection vu ni déclaré"."""
    if m.room == NO_ROOM:
        return t(f"equip.missing.unknown_rooms.{m.need}", n=m.classes)
    if m.room and m.need in ("projection", "teacher_computer") and m.found == 0:
        return t(f"equip.missing.{m.need}", room=m.room)
    if not m.room and m.need == "mobile_device":
        return t("equip.missing.mobile_device", found=m.found, needed=m.needed)
    if not m.room and m.need in ("mdm", "charging_cabinet") and m.found == 0:
        return t(f"equip.missing.{m.need}")
    return t("equip.missing.other", room=m.room or t("equip.school_room"), need=t(f"equip.need.{m.need}"),
             found=m.found, needed=m.needed)


@dataclass
class Area:
    """The counts of one commune or département: schools, classes, and per rule what is lacking."""

    kind: str  # commune, departement
    code: str
    name: str
    schools: int = 0
    classes: int = 0
    unknown_classes: int = 0
    lacking: dict[str, int] = field(default_factory=dict)  # rule id -> classes (class rules) or schools
    short: dict[str, int] = field(default_factory=dict)  # rule id -> items missing (scaled school rules)


@dataclass(frozen=True, slots=True)
class Tally:
    """What a school's equipment verdict adds to its commune's and département's counts: its classes, and
    per rule the classes (class rules) or the school (school rules) lacking, and the items short."""

    classes: int | None
    lacking: tuple[tuple[str, int], ...]  # every rule's id, 0 where it is not failed
    short: tuple[tuple[str, int], ...]  # scaled school rules failed only


def tally_of(eq: EquipmentVerdict) -> Tally:
    """The school's share of the counts."""
    lacking, short = [], []
    for o in eq.outcomes:
        n = 0
        if o.outcome == "fail" and o.scope == "class" and o.of is not None and o.met is not None:
            n = o.of - o.met
        elif o.outcome == "fail" and o.scope == "school":
            n = 1
            if o.needed is not None and o.met is not None and o.needed > 1:
                short.append((o.rule_id, o.needed - o.met))
        lacking.append((o.rule_id, n))
    return Tally(eq.classes, tuple(lacking), tuple(short))


def _count(area: Area, t: Tally) -> None:
    area.schools += 1
    if t.classes is None:
        area.unknown_classes += 1
    else:
        area.classes += t.classes
    for rule, n in t.lacking:
        area.lacking[rule] = area.lacking.get(rule, 0) + n
    for rule, n in t.short:
        area.short[rule] = area.short.get(rule, 0) + n


def counts(schools: Iterable[SchoolLike], tallies: Mapping[str, Tally]) -> tuple[list[Area], list[Area]]:
    """The counts per département and per commune, in order."""
    deps: dict[str, Area] = {}
    communes: dict[str, Area] = {}
    for s in schools:
        t = tallies.get(s.uai)
        if t is None:
            continue
        dep = departement_of(s)
        _count(deps.setdefault(dep, Area("departement", dep, dep)), t)
        key = s.commune_code or f"{s.commune} ({dep})"
        _count(communes.setdefault(key, Area("commune", s.commune_code or "", s.commune)), t)
    return (sorted(deps.values(), key=lambda a: a.code),
            sorted(communes.values(), key=lambda a: (a.name, a.code)))
