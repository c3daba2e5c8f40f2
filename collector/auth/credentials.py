"""Credentials: enrolment codes traded for an agent's credential, and API tokens for people."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.auth.access import ROLES, ScopeError, parse_scope
from collector.auth.enrolment import (
    create_code,
    enrolment_room,
    live_code,
    log_use,
    moving_from,
    spend,
)
from collector.auth.identity import machine_key
from collector.auth.tokens import AGENT_PREFIX, API_PREFIX, hash_secret, new_secret
from collector.db.engine import as_utc
from collector.db.models import AgentIncarnation, AgentRow, ApiToken, EnrollCode, School
from collector.errors import StoreError
from collector.schools.records import get_school
from config.wire import EnrollRequest, EnrollResponse

# Why a code is refused, as the API says it (the speed-test page shows each in the reader's language).
CODE_REFUSALS = {"unknown": "unknown enrolment code", "used": "this enrolment code was already used",
                 "expired": "this enrolment code has expired"}


def create_enroll_code(session: Session, uai: str, now: datetime, ttl: timedelta, *, uses: int = 1,
                       room_pattern: str | None = None, label: str | None = None) -> str:
    """A new enrolment code for a school: one use unless told more (collector/auth/enrolment.py)."""
    return create_code(session, uai, now, ttl, uses=uses, room_pattern=room_pattern, label=label)


def live_enroll_code(session: Session, code: str, now: datetime) -> EnrollCode:
    """The enrolment code's row if it can still be spent, else a 401 that says why."""
    return live_code(session, code, now)


def enroll(session: Session, req: EnrollRequest, now: datetime,
           incarnation: str | None = None, address: str | None = None) -> EnrollResponse:
    """Trade an enrolment code for a per-device credential; the machine enrolling (its ``incarnation``
    lineage, when sent) is the one that holds the identity from now on. A machine enrolled to another
    school moves only with ``req.move`` (else 409, the code unspent); its agents there are revoked."""
    row = live_enroll_code(session, req.code, now)
    school = get_school(session, row.school_uai)
    room = enrolment_room(req, row)
    move = moving_from(session, req, incarnation, school.uai)
    if move is not None and not req.move:
        raise StoreError(409, move.refusal(school))
    spend(session, row, now)
    token = new_secret(AGENT_PREFIX)
    agent = AgentRow(agent_id=str(uuid.uuid4()), school_uai=school.uai, room=room,
                     token_hash=hash_secret(token), instance_id=str(req.device.instance_id),
                     hostname=req.device.hostname, agent_version=req.agent_version, enrolled_at=now,
                     role=req.role)
    session.add(agent)
    session.flush()  # the agent's row first: its machine and the code's use refer to it
    if incarnation:
        key, lineage = machine_key(incarnation)
        if lineage:
            session.add(AgentIncarnation(agent_id=agent.agent_id, incarnation=key, first_seen_at=now,
                                         last_seen_at=now))
    for old in move.agents if move is not None else []:
        old.revoked_at = now
    log_use(session, row, agent, now, address, move.school.uai if move is not None else None)
    return EnrollResponse(agent_id=uuid.UUID(agent.agent_id), token=token, school_uai=school.uai,
                          school_name=school.name, room=room, role=req.role)


def create_api_token(session: Session, role: str, now: datetime, scope: str = "all",
                     label: str | None = None, ttl: timedelta | None = None) -> str:
    """A new API token for a role; only its hash is kept."""
    if role not in ROLES:
        raise StoreError(422, f"unknown role {role!r}; one of {', '.join(ROLES)}")
    try:
        scope = str(parse_scope(scope))
    except ScopeError as exc:
        raise StoreError(422, str(exc) + _known_communes(session, scope)) from None
    token = new_secret(API_PREFIX)
    session.add(ApiToken(token_id=str(uuid.uuid4()), token_hash=hash_secret(token), role=role,
                         scope=scope, label=label, created_at=now,
                         expires_at=None if ttl is None else now + ttl))
    return token


def is_live(row: ApiToken, now: datetime) -> bool:
    """Whether an API token is neither revoked nor expired."""
    return row.revoked_at is None and (row.expires_at is None or as_utc(row.expires_at) >= now)


def _known_communes(session: Session, scope: str) -> str:
    """For a ``commune:<name>`` scope refused as ambiguous: the communes of that name this collector knows."""
    kind, _, name = scope.partition(":")
    if kind.strip().lower() != "commune" or not name.strip():
        return ""
    folded = " ".join(name.casefold().split())
    rows = session.execute(select(School.commune, School.departement, School.commune_code).distinct())
    found = sorted({(c, d or "?", code or "no INSEE code") for c, d, code in rows
                    if " ".join(c.casefold().split()) == folded})
    if not found:
        return ""
    return "; this collector knows " + ", ".join(f"{c} ({d}): {code}" for c, d, code in found)


def describe_scope(session: Session, scope: str) -> str:
    """A scope as people read it: a commune's or circonscription's code with its name and département."""
    try:
        parsed = parse_scope(scope)
    except ScopeError:
        return scope
    if parsed.alias is not None or parsed.kind not in ("commune", "circonscription"):
        return str(parsed)
    column, name = ((School.commune_code, School.commune) if parsed.kind == "commune"
                    else (School.circonscription_code, School.circonscription))
    row = session.execute(select(name, School.departement).where(column == parsed.value).limit(1)).first()
    return str(parsed) if row is None or row[0] is None else f"{parsed} ({row[0]}, {row[1] or '?'})"


def api_token(session: Session, token: str, now: datetime) -> ApiToken | None:
    """The live API token with this value, if any."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_secret(token)))
    return row if row is not None and is_live(row, now) else None


def may_run_speed_tests(session: Session, secret: str, now: datetime) -> bool:
    """Whether ``secret`` lets its holder run speed tests: a live agent's credential, or an enrolment or
    speed-test code still valid (what a tablet's browser holds)."""
    agent = session.scalar(select(AgentRow).where(AgentRow.token_hash == hash_secret(secret)))
    if agent is not None:
        return agent.revoked_at is None
    try:
        live_enroll_code(session, secret, now)
    except StoreError:
        return False
    return True
