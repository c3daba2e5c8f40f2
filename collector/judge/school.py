"""One school judged afresh, with the evidence: what the API, the terminal report and the pages show."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from collector.db.models import School
from collector.db.sample_sets import school_samples
from collector.edge.metrics import EVALUATION
from collector.equipment.school import school_equipment
from collector.schools.records import school_public
from collector.wifi.school import school_compliance
from config.profile import Profile
from config.readiness import Evaluation, SchoolFacts, evaluate
from config.summary import device_summary
from config.wire import SchoolReadiness


def evaluate_school(session: Session, school: School, profile: Profile, now: datetime) -> Evaluation:
    """Judge one school on its samples over the profile's longest window."""
    longest = max(rule.window_days for rule in profile.rules)
    with EVALUATION.labels("school").time():
        samples = school_samples(session.connection(), school.uai, now - timedelta(days=longest))
        return evaluate(profile, samples, now, SchoolFacts(pupils=school.pupils, staff=school.staff))


def school_readiness(session: Session, school: School, profile: Profile, now: datetime) -> SchoolReadiness:
    """Everything the API, the terminal report and the pages show about one school."""
    ev = evaluate_school(session, school, profile, now)
    return SchoolReadiness(**school_public(school).model_dump(), level=ev.level, evaluated_at=now,
                           profile_id=profile.profile.id, rules=ev.outcomes,
                           compliance=school_compliance(session, school, now),
                           devices=device_summary(ev.outcomes),
                           equipment=school_equipment(session, school, profile, now))
