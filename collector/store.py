"""What the collector does with its database: schools, enrolment, tokens, reports."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from collector import sample_sets
from collector.access import ROLES, ScopeError, parse_scope
from collector.db import as_utc
from collector.ingest_statements import on, report_row
from collector.metrics import EVALUATION, count_report
from collector.models import AgentRow, ApiToken, EnrollCode, School
from collector.tokens import (
    AGENT_PREFIX,
    API_PREFIX,
    hash_secret,
    new_enroll_code,
    new_secret,
    normalise_code,
)
from config.profile import Profile
from config.readiness import Evaluation, Sample, SchoolFacts, evaluate
from config.uai import validate_uai
from config.wire import EnrollRequest, EnrollResponse, Report, SchoolPublic


class StoreError(Exception):
    """A request the store refuses; ``status`` is the HTTP status that fits."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def school_public(row: School) -> SchoolPublic:
    """A school row as the API shows it."""
    return SchoolPublic(uai=row.uai, name=row.name, commune=row.commune, departement=row.departement,
                        academie=row.academie, school_type=row.school_type, pupils=row.pupils,
                        staff=row.staff)


def upsert_school(session: Session, school: SchoolPublic, now: datetime) -> bool:
    """Add a school or update it in place; True when it was new."""
    row = session.get(School, school.uai)
    created = row is None
    if row is None:
        row = School(uai=school.uai, created_at=now, name=school.name, commune=school.commune)
        session.add(row)
    for field in ("name", "commune", "departement", "academie", "school_type", "pupils", "staff"):
        value = getattr(school, field)
        if value is not None or field in ("name", "commune"):
            setattr(row, field, value)
    return created


def get_school(session: Session, uai: str) -> School:
    """A school by UAI, or a 404 that says which."""
    try:
        uai = validate_uai(uai)
    except ValueError as exc:
        raise StoreError(422, str(exc)) from None
    row = session.get(School, uai)
    if row is None:
        raise StoreError(404, f"no school {uai} in this collector")
    return row


def create_enroll_code(session: Session, uai: str, now: datetime, ttl: timedelta) -> str:
    """A new one-time enrolment code for a school."""
    school = get_school(session, uai)
    code = new_enroll_code()
    session.add(EnrollCode(code_hash=hash_secret(normalise_code(code)), school_uai=school.uai,
                           created_at=now, expires_at=now + ttl))
    return code


def live_enroll_code(session: Session, code: str, now: datetime) -> EnrollCode:
    """The enrolment code's row if it can still be spent, else a 401 that says why."""
    row = session.get(EnrollCode, hash_secret(normalise_code(code)))
    if row is None:
        raise StoreError(401, "unknown enrolment code")
    if row.used_at is not None:
        raise StoreError(401, "this enrolment code was already used")
    if as_utc(row.expires_at) < now:
        raise StoreError(401, "this enrolment code has expired")
    return row


def enroll(session: Session, req: EnrollRequest, now: datetime) -> EnrollResponse:
    """Trade a one-time code for a per-device credential."""
    row = live_enroll_code(session, req.code, now)
    row.used_at = now
    school = get_school(session, row.school_uai)
    token = new_secret(AGENT_PREFIX)
    agent = AgentRow(agent_id=str(uuid.uuid4()), school_uai=school.uai, room=req.room,
                     token_hash=hash_secret(token), instance_id=str(req.device.instance_id),
                     hostname=req.device.hostname, agent_version=req.agent_version, enrolled_at=now)
    session.add(agent)
    return EnrollResponse(agent_id=uuid.UUID(agent.agent_id), token=token, school_uai=school.uai,
                          school_name=school.name, room=req.room)


def agent_for_token(session: Session, token: str) -> AgentRow | None:
    """The live agent holding this credential, if any."""
    row = session.scalar(select(AgentRow).where(AgentRow.token_hash == hash_secret(token)))
    if row is None or row.revoked_at is not None:
        return None
    return row


def create_api_token(session: Session, role: str, now: datetime, scope: str = "all",
                     label: str | None = None, ttl: timedelta | None = None) -> str:
    """A new API token for a role; only its hash is kept."""
    if role not in ROLES:
        raise StoreError(422, f"unknown role {role!r}; one of {', '.join(ROLES)}")
    try:
        scope = str(parse_scope(scope))
    except ScopeError as exc:
        raise StoreError(422, str(exc)) from None
    token = new_secret(API_PREFIX)
    session.add(ApiToken(token_id=str(uuid.uuid4()), token_hash=hash_secret(token), role=role,
                         scope=scope, label=label, created_at=now,
                         expires_at=None if ttl is None else now + ttl))
    return token


def api_token(session: Session, token: str, now: datetime) -> ApiToken | None:
    """The live API token with this value, if any."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_secret(token)))
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and as_utc(row.expires_at) < now:
        return None
    return row


def ingest(session: Session, agent: AgentRow, report: Report, now: datetime) -> str:
    """Store a report once: ``stored``, or ``duplicate`` when its id is already here."""
    status = _ingest(session, agent, report, now)
    count_report(status)
    return status


def _ingest(session: Session, agent: AgentRow, report: Report, now: datetime) -> str:
    if report.school_uai != agent.school_uai:
        raise StoreError(403, f"this agent is enrolled to {agent.school_uai}, "
                              f"not {report.school_uai}")
    row = report_row(report, now)
    packed = sample_sets.pack(report)
    sets = [] if packed is None else [(packed, packed.row(row["report_id"], report.school_uai, report.room))]
    sql, cur = on(session.connection())  # ingest's statements (collector/ingest_statements.py)
    try:
        # stored: with its set, counted against its school's verdict, its agent's last_seen_at set
        if not sql.store(cur, [{**row, "agent_id": agent.agent_id}], sets):
            return "duplicate"  # already stored, or raced in from another request just now
    finally:
        cur.close()
    return "stored"


def school_samples(session: Session, uai: str, since: datetime) -> Iterable[Sample]:
    """The samples of one school taken since ``since``."""
    return sample_sets.school_samples(session.connection(), uai, since)


def evaluate_school(session: Session, school: School, profile: Profile, now: datetime) -> Evaluation:
    """Judge one school on its samples over the profile's longest window."""
    longest = max(rule.window_days for rule in profile.rules)
    with EVALUATION.labels("school").time():
        samples = school_samples(session, school.uai, now - timedelta(days=longest))
        return evaluate(profile, samples, now, SchoolFacts(pupils=school.pupils, staff=school.staff))
