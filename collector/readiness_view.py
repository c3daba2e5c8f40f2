"""A school's whole readiness answer: level, rules, legal items and devices."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from collector.models import School
from collector.school_wifi import school_compliance
from collector.store import evaluate_school, school_public
from config.profile import Profile
from config.summary import device_summary
from config.wire import SchoolReadiness


def school_readiness(session: Session, school: School, profile: Profile, now: datetime) -> SchoolReadiness:
    """Everything the API, the terminal report and the pages show about one school."""
    ev = evaluate_school(session, school, profile, now)
    return SchoolReadiness(**school_public(school).model_dump(), level=ev.level, evaluated_at=now,
                           profile_id=profile.profile.id, rules=ev.outcomes,
                           compliance=school_compliance(session, school, now),
                           devices=device_summary(ev.outcomes))
