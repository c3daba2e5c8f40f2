"""Equipment: the items a school declares, which need each one meets, and the equipment part of a verdict.

A need (config.profile.Need) is what an equipment rule counts; an item is what
an admin or technician declares (a projector, eight tablets, an MDM). Each value
the verdict shows says where it came from: **measured** (which agent saw it and
when), **declared** (by whom and when), both (and whether they agree), or
nothing. The rules that judge these values are collector/equipment/rules.py.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from config.compat import StrEnum
from config.profile import Need


class Item(StrEnum):
    """What can be declared for a room, or for the school as a whole."""

    projector = "projector"
    interactive_display = "interactive_display"  # an interactive flat panel (ENI)
    interactive_whiteboard = "interactive_whiteboard"  # a board with its own projector (TBI, VPI)
    teacher_computer = "teacher_computer"
    tablet = "tablet"
    laptop = "laptop"
    mdm = "mdm"
    charging_cabinet = "charging_cabinet"


NEED_OF: dict[Item, Need] = {
    Item.projector: Need.projection, Item.interactive_display: Need.projection,
    Item.interactive_whiteboard: Need.projection, Item.teacher_computer: Need.teacher_computer,
    Item.tablet: Need.mobile_device, Item.laptop: Need.mobile_device, Item.mdm: Need.mdm,
    Item.charging_cabinet: Need.charging_cabinet,
}

# The names a CSV or a form may use for an item, French and English, folded (no case, accents or spaces).
_ALIASES: dict[str, Item] = {
    **dict.fromkeys(("projector", "videoprojecteur", "videoprojector", "projecteur", "vp"), Item.projector),
    **dict.fromkeys(("interactive_display", "interactivedisplay", "ecraninteractif", "eni",
                     "ecrannumeriqueinteractif", "ecraninteractiftactile", "tni"), Item.interactive_display),
    **dict.fromkeys(("interactive_whiteboard", "interactivewhiteboard", "tbi", "vpi",
                     "tableaublancinteractif", "videoprojecteurinteractif"), Item.interactive_whiteboard),
    **dict.fromkeys(("teacher_computer", "teachercomputer", "posteenseignant", "ordinateurenseignant",
                     "pcenseignant"), Item.teacher_computer),
    **dict.fromkeys(("tablet", "tablets", "tablette", "tablettes"), Item.tablet),
    **dict.fromkeys(("laptop", "laptops", "ordinateurportable", "portable", "portables"), Item.laptop),
    **dict.fromkeys(("mdm", "fleetmanagement", "gestiondeflotte", "solutionmdm"), Item.mdm),
    **dict.fromkeys(("charging_cabinet", "chargingcabinet", "chargingcart", "armoirederecharge",
                     "chariotderecharge", "armoire", "classemobile"), Item.charging_cabinet),
}


def _fold(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.casefold() if ch.isalnum() or ch == "_")


def item_of(text: str) -> Item:
    """The item a name stands for (``vidéoprojecteur``, ``TBI``, ``tablettes``…); a ValueError otherwise."""
    item = _ALIASES.get(_fold(text))
    if item is None:
        raise ValueError(f"{text!r} is not an equipment item: one of {', '.join(i.value for i in Item)} "
                         "(or vidéoprojecteur, TBI, VPI, ENI, tablette, armoire de recharge…)")
    return item


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


Origin = Literal["measured", "declared", "both", "none"]
EquipmentStatus = Literal["pass", "fail", "no_data", "not_applicable"]


Sign = Literal["display", "no_projection", "teacher_drives", "teacher_no_projection", "teacher_no_reading",
               "mobile"]


class SeenBy(_Model):
    """One thing an agent measured: which machine, its role, when, and what (a display, or itself).

    ``what`` says it in English (the terminal, the exports); ``sign`` and ``displays`` say it for the
    pages to put in their own words."""

    hostname: str
    role: str | None
    at: datetime
    what: str  # "EPSON PJ (projector)", "teacher machine, drives EPSON PJ", "mobile machine"
    sign: Sign
    displays: list[str] = Field(default_factory=list)  # "EPSON PJ (projector)", each display it concerns


class DeclaredBy(_Model):
    """A declaration: how many, by whom, when, from where."""

    item: str
    count: int
    by: str
    at: datetime
    source: str
    note: str | None = None


class Value(_Model):
    """How many of a need a room (or the school) has, and where that figure came from.

    ``count`` is the figure the rules use. When measured and declared disagree,
    ``contradiction`` says how; a measured count above the declared one wins (an
    agent saw them), and so does a measurement newer than the declaration when
    it can show an absence (a teacher machine reads every display cabled to it):
    the declaration is then ``stale``.
    """

    need: Need
    room: str = ""  # "" = the school as a whole (a projector on a cart, the tablets, the MDM)
    count: int
    origin: Origin
    measured_count: int | None = None
    declared_count: int | None = None
    measured: list[SeenBy] = Field(default_factory=list)
    declared: list[DeclaredBy] = Field(default_factory=list)
    stale: bool = False
    contradiction: str | None = None


class EquipmentEvidence(_Model):
    """One subject (a class's room, or the school) of an equipment rule."""

    subject: str  # the room, "school", or "(no room known)" for classes Socle knows no room of
    outcome: EquipmentStatus
    value: Value | None = None
    needed: int
    note: str | None = None


class EquipmentOutcome(_Model):
    """One equipment rule's outcome: met in how many classes of how many, what is missing, the evidence."""

    rule_id: str
    title: str
    source: str
    proposed: bool
    level: str
    scope: str
    need: Need
    required: bool
    outcome: EquipmentStatus
    needed: int | None = None  # per class, or for the school after scaling
    met: int | None = None  # classes (class scope) or devices (school scope) that meet it
    of: int | None = None  # classes (class scope)
    missing: list[str] = Field(default_factory=list)  # the rooms (or "school") where it is not met
    evidence: list[EquipmentEvidence] = Field(default_factory=list)
    note: str | None = None


class EquipmentVerdict(_Model):
    """The equipment part of a school's verdict, beside the network part (``level`` of SchoolReadiness)."""

    level: Literal["not_ready", "base", "target", "no_data"]
    classes: int | None
    classes_origin: str | None = None
    rooms: list[str] = Field(default_factory=list)  # the rooms judged as classes
    outcomes: list[EquipmentOutcome] = Field(default_factory=list)
    values: list[Value] = Field(default_factory=list)  # every room's and the school's, for the page
