"""One school's equipment verdict, read from the store and judged (what the API and the pages show)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from collector.db.models import School
from config.equipment import EquipmentVerdict
from config.profile import Profile

from .facts import SchoolClasses, school_facts
from .rules import judge_equipment


def school_equipment(session: Session, school: School, profile: Profile,
                     now: datetime) -> EquipmentVerdict | None:
    """The equipment part of a school's verdict; None when the profile has no equipment rules."""
    if not profile.equipment:
        return None
    return judge_equipment(profile.equipment, school_facts(session, [school], now)[school.uai])


def many_equipment(session: Session, schools: Sequence[SchoolClasses], profile: Profile,
                   now: datetime) -> dict[str, EquipmentVerdict]:
    """The equipment verdicts of several schools, by UAI, from facts read together."""
    if not profile.equipment:
        return {}
    facts = school_facts(session, schools, now)
    return {uai: judge_equipment(profile.equipment, f) for uai, f in facts.items()}
