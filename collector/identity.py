"""Agent identity on the collector: cloned credentials, re-enrolment, rotation and revocation.

A cloned disk image carries the agent's instance ID and credential to many
machines. Each request carries an *incarnation* (see ``agent/identity.py``): a
digest of the instance ID and of the machine's boot ID, so it changes on every
reboot of one machine but always differs between two machines running at once.
A reboot shows as a new incarnation after which the old one is never seen again;
a clone shows as an *older* incarnation coming back after a newer one appeared.
Then the newer one (the second machine) is marked, its requests get 409, and it
may call ``/agents/reenroll`` once to get an agent ID and credential of its own,
for the same school and room, without a new enrolment code.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from collector.db import as_utc
from collector.models import AgentIncarnation, AgentPreviousToken, AgentRow, ApiToken, School
from collector.store import StoreError, agent_for_token
from collector.tokens import AGENT_PREFIX, hash_secret, new_secret
from config.wire import EnrollResponse, ReenrollRequest, RotateResponse

log = logging.getLogger("socle.collector.identity")

CLONE_MESSAGE = ("this agent's identity is in use on another machine at the same time (a cloned disk "
                 "image?): this machine must re-enrol ('socle-agent' does it by itself)")
PREVIOUS_TOKEN_GRACE = timedelta(days=7)


def authenticate_agent(session: Session, token: str, now: datetime) -> AgentRow | None:
    """The live agent behind a credential; a rotated-out one still works until the new one is used."""
    agent = agent_for_token(session, token)
    if agent is not None:
        if session.scalar(select(AgentPreviousToken.token_hash)
                          .where(AgentPreviousToken.agent_id == agent.agent_id).limit(1)) is not None:
            session.execute(delete(AgentPreviousToken).where(AgentPreviousToken.agent_id == agent.agent_id))
        return agent
    old = session.get(AgentPreviousToken, hash_secret(token))
    if old is None or as_utc(old.retired_at) + PREVIOUS_TOKEN_GRACE < now:
        return None
    row = session.get(AgentRow, old.agent_id)
    return row if row is not None and row.revoked_at is None else None


def check_incarnation(session: Session, agent: AgentRow, incarnation: str, now: datetime) -> None:
    """Record the machine behind this request; 409 when it is a clone already told to re-enrol."""
    rows = {r.incarnation: r for r in session.scalars(
        select(AgentIncarnation).where(AgentIncarnation.agent_id == agent.agent_id))}
    row = rows.get(incarnation)
    if row is not None and row.clone_detected_at is not None:
        raise StoreError(409, CLONE_MESSAGE)
    if row is None:
        session.add(AgentIncarnation(agent_id=agent.agent_id, incarnation=incarnation, first_seen_at=now,
                                     last_seen_at=now))
        return
    live = [r for r in rows.values() if r.clone_detected_at is None]
    newest = max(live, key=lambda r: (as_utc(r.first_seen_at), r.incarnation))
    if newest is not row:
        # An older machine is back after a newer one appeared: both are running.
        newest.clone_detected_at = now
        log.warning("agent %s (%s, room %s): credential in use by two machines; the newer one "
                    "must re-enrol", agent.agent_id, agent.school_uai, agent.room)
    row.last_seen_at = now


def reenroll_clone(session: Session, token: str, incarnation: str | None, req: ReenrollRequest,
                   now: datetime) -> EnrollResponse:
    """Give a machine marked as a clone its own agent ID and credential (once per marked machine)."""
    agent = authenticate_agent(session, token, now)
    if agent is None:
        raise StoreError(401, "unknown or revoked agent credential: enrol the agent again")
    row = None if incarnation is None else session.get(AgentIncarnation, (agent.agent_id, incarnation))
    if row is None or row.clone_detected_at is None:
        raise StoreError(409, "this machine is not marked as a clone: nothing to re-enrol")
    if row.replaced_by is not None:
        raise StoreError(409, "this clone already re-enrolled; use the credential it was given, "
                              "or enrol again with a new code")
    if str(req.device.instance_id) == agent.instance_id:
        raise StoreError(422, "re-enrol with a new instance_id: the old one is the cloned one")
    school = session.get(School, agent.school_uai)
    assert school is not None  # a foreign key
    new_token = new_secret(AGENT_PREFIX)
    new = AgentRow(agent_id=str(uuid.uuid4()), school_uai=agent.school_uai, room=agent.room,
                   token_hash=hash_secret(new_token), instance_id=str(req.device.instance_id),
                   hostname=req.device.hostname, agent_version=req.agent_version, enrolled_at=now)
    session.add(new)
    row.replaced_by = new.agent_id
    log.warning("clone of agent %s re-enrolled as %s (%s)", agent.agent_id, new.agent_id,
                req.device.hostname)
    return EnrollResponse(agent_id=uuid.UUID(new.agent_id), token=new_token, school_uai=school.uai,
                          school_name=school.name, room=new.room)


def rotate_credential(session: Session, agent: AgentRow, now: datetime) -> RotateResponse:
    """A new credential for ``agent``; the old one keeps working until the new one is first used."""
    session.add(AgentPreviousToken(token_hash=agent.token_hash, agent_id=agent.agent_id, retired_at=now))
    token = new_secret(AGENT_PREFIX)
    agent.token_hash = hash_secret(token)
    return RotateResponse(agent_id=uuid.UUID(agent.agent_id), token=token)


def revoke(session: Session, ident: str, now: datetime) -> str:
    """Revoke an agent credential (by agent ID) or an API token (by token ID); says which it was."""
    agent = session.get(AgentRow, ident)
    if agent is not None:
        if agent.revoked_at is None:
            agent.revoked_at = now
        session.execute(delete(AgentPreviousToken).where(AgentPreviousToken.agent_id == ident))
        return f"agent {ident} ({agent.school_uai}, room {agent.room}, {agent.hostname})"
    api = session.get(ApiToken, ident)
    if api is not None:
        if api.revoked_at is None:
            api.revoked_at = now
        return f"API token {ident} ({api.role}{', ' + api.label if api.label else ''})"
    raise StoreError(404, f"no agent and no API token with id {ident}")
