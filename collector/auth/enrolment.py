"""A school's enrolment codes: made for N uses until an expiry, spent atomically, revocable, every use logged.

A code is spent by one ``UPDATE … WHERE uses < max_uses AND revoked_at IS NULL
AND expires_at >= now``: on PostgreSQL the second of two racing transactions
waits for the first's row lock and re-reads the row, on SQLite writers take
turns; either way the last use goes to one of them and the other is refused.
A machine already enrolled to another school is moved only when its request
says so (``move``): otherwise the enrolment is refused (409) before the code is
spent, and the agent asks its technician.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from collector.auth.identity import machine_key
from collector.auth.tokens import hash_secret, new_enroll_code, normalise_code
from collector.db.engine import as_utc
from collector.db.models import AgentIncarnation, AgentRow, EnrollCode, EnrollUse, School
from collector.errors import StoreError
from collector.schools.records import get_school
from config.rooms import RoomPatternError, check_room_pattern, room_from_hostname
from config.wire import EnrollRequest

MAX_USES = 10_000
CODE_ID_CHARS = 12  # codes are listed and revoked by this much of their hash, never by the secret


def create_code(session: Session, uai: str, now: datetime, ttl: timedelta, *, uses: int = 1,
                room_pattern: str | None = None, label: str | None = None) -> str:
    """A new enrolment code for a school, good for ``uses`` enrolments until ``now + ttl``."""
    if not 1 <= uses <= MAX_USES:
        raise StoreError(422, f"a code has between 1 and {MAX_USES} uses, not {uses}")
    if room_pattern is not None:
        try:
            check_room_pattern(room_pattern)
        except RoomPatternError as exc:
            raise StoreError(422, str(exc)) from None
    school = get_school(session, uai)
    code = new_enroll_code()
    session.add(EnrollCode(code_hash=hash_secret(normalise_code(code)), school_uai=school.uai,
                           created_at=now, expires_at=now + ttl, max_uses=uses, uses=0,
                           room_pattern=room_pattern, label=label))
    return code


def live_code(session: Session, code: str, now: datetime) -> EnrollCode:
    """The code's row if it can still be spent, else a 401 that says why."""
    row = session.get(EnrollCode, hash_secret(normalise_code(code)))
    if row is None:
        raise StoreError(401, "unknown enrolment code")
    refusal = why_not_live(row, now)
    if refusal is not None:
        raise StoreError(401, refusal)
    return row


def why_not_live(row: EnrollCode, now: datetime) -> str | None:
    """Why a code can no longer be spent (revoked, used up, expired), or None while it can."""
    if row.revoked_at is not None:
        return f"this enrolment code was revoked on {as_utc(row.revoked_at):%Y-%m-%d %H:%M} UTC"
    if row.uses >= row.max_uses:
        if row.max_uses == 1:
            return "this enrolment code was already used"
        return (f"this enrolment code was already used {row.uses} times, all of its {row.max_uses} uses: "
                "ask for a new code")
    if as_utc(row.expires_at) < now:
        return f"this enrolment code has expired (on {as_utc(row.expires_at):%Y-%m-%d %H:%M} UTC)"
    return None


def spend(session: Session, row: EnrollCode, now: datetime) -> None:
    """Count one use of the code, atomically; a 401 when another enrolment took its last use first."""
    result = session.execute(
        update(EnrollCode)
        .where(EnrollCode.code_hash == row.code_hash, EnrollCode.uses < EnrollCode.max_uses,
               EnrollCode.revoked_at.is_(None), EnrollCode.expires_at >= now)
        .values(uses=EnrollCode.uses + 1, used_at=now)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.expire(row)
        raise StoreError(401, why_not_live(row, now) or "this enrolment code can no longer be used")


def enrolment_room(req: EnrollRequest, row: EnrollCode) -> str:
    """The room a machine is enrolled to: the one it gives, else the code's pattern on its hostname."""
    if req.room is not None:
        return req.room
    host = req.device.hostname
    if row.room_pattern is None:
        raise StoreError(422, "no room given, and this enrolment code has no hostname pattern: enrol with "
                              "--room ROOM, or make a code with --room-pattern")
    room = room_from_hostname(row.room_pattern, host)
    if room is None:
        raise StoreError(422, f"no room given, and the hostname {host!r} does not match this code's room "
                              f"pattern {row.room_pattern!r}: enrol with --room ROOM")
    return room[:200]


@dataclass(frozen=True)
class Move:
    """The live agents of this machine at other schools, which a confirmed enrolment revokes."""

    agents: list[AgentRow]
    school: School

    def refusal(self, target: School) -> str:
        """The 409's message: where the machine is, where the code would take it, how to confirm."""
        rooms = ", ".join(sorted({a.room for a in self.agents}))
        return (f"this machine is enrolled to {self.school.name} ({self.school.uai}), room {rooms}; "
                f"this code enrols it to {target.name} ({target.uai}). Confirm the move "
                "(socle-agent enroll --yes) or use a code of its own school")


def moving_from(session: Session, req: EnrollRequest, incarnation: str | None, uai: str) -> Move | None:
    """This machine's live agents at another school than ``uai``, or None.

    The machine is its instance ID; when the request names its lineage and an agent has machines
    on record, that agent is this machine's only if one of them is this lineage (a clone of a disk
    image shares the instance ID, not the lineage, and must not revoke its original).
    """
    agents = list(session.scalars(select(AgentRow).where(
        AgentRow.instance_id == str(req.device.instance_id), AgentRow.revoked_at.is_(None),
        AgentRow.school_uai != uai)))
    key, lineage = machine_key(incarnation) if incarnation else ("", False)
    if lineage and agents:
        ids = [a.agent_id for a in agents]
        known = {(a, k) for a, k in session.execute(
            select(AgentIncarnation.agent_id, AgentIncarnation.incarnation)
            .where(AgentIncarnation.agent_id.in_(ids)))}
        with_machines = {a for a, _ in known}
        agents = [a for a in agents if a.agent_id not in with_machines or (a.agent_id, key) in known]
    if not agents:
        return None
    school = session.get(School, agents[0].school_uai)
    assert school is not None  # a foreign key
    return Move(agents=agents, school=school)


def log_use(session: Session, row: EnrollCode, agent: AgentRow, now: datetime, address: str | None,
            moved_from: str | None) -> None:
    """Keep who spent a use of the code, when, from where."""
    session.add(EnrollUse(code_hash=row.code_hash, agent_id=agent.agent_id, used_at=now,
                          hostname=agent.hostname, instance_id=agent.instance_id, room=agent.room,
                          address=(address or None) and address[:64], moved_from=moved_from))


def code_id(row: EnrollCode) -> str:
    """How a code is named in lists and to revoke it: the start of its hash."""
    return row.code_hash[:CODE_ID_CHARS]


def find_code(session: Session, ident: str) -> EnrollCode:
    """The code whose id (or an unambiguous start of it, 6 characters or more) is ``ident``."""
    ident = ident.strip().lower()
    if len(ident) < 6 or not all(c in "0123456789abcdef" for c in ident):
        raise StoreError(422, f"{ident!r} is not a code id: give the id 'enroll-code list' shows")
    rows = list(session.scalars(select(EnrollCode).where(EnrollCode.code_hash.startswith(ident)).limit(2)))
    if not rows:
        raise StoreError(404, f"no enrolment code with id {ident}")
    if len(rows) > 1:
        raise StoreError(422, f"more than one code's id starts with {ident}: give more of it")
    return rows[0]


def revoke_code(session: Session, ident: str, now: datetime) -> EnrollCode:
    """Revoke a code: it enrols nothing more; the agents it enrolled keep their credentials."""
    row = find_code(session, ident)
    if row.revoked_at is None:
        row.revoked_at = now
    return row


def list_codes(session: Session, uai: str | None) -> list[EnrollCode]:
    """The codes of one school (or all), newest first."""
    query = select(EnrollCode).order_by(EnrollCode.created_at.desc())
    if uai is not None:
        query = query.where(EnrollCode.school_uai == uai)
    return list(session.scalars(query))


def code_uses(session: Session, row: EnrollCode) -> list[EnrollUse]:
    """The uses of a code, oldest first."""
    return list(session.scalars(select(EnrollUse).where(EnrollUse.code_hash == row.code_hash)
                                .order_by(EnrollUse.used_at, EnrollUse.id)))
