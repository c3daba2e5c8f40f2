"""Agent identity on the collector: cloned credentials, re-enrolment, rotation and revocation.

A cloned disk image carries the agent's instance ID and credential to many
machines. Each request carries an *incarnation* header (see ``agent/identity.py``)
in two parts, ``LINEAGE.BOOT``:

* the lineage names one copy of the agent on one machine: a digest of the
  instance ID, of the machine's hardware (its SMBIOS UUID or MAC address) and of
  the state directory's own file identity, so it stays the same across reboots
  and differs on a clone — another machine, or a second copy of the state
  directory on the same machine;
* the boot part changes on every boot (it is shown, not judged).

The lineage that held the identity first keeps it, whatever the order of events:
the one the enrolment request came from, else the first one seen. A request from
any other lineage marks that lineage as a clone and is refused with 409; the
clone may then call ``/agents/reenroll`` once to get an agent ID and credential
of its own, for the same school and room, without a new enrolment code.

Agents that send a one-part incarnation (a digest of the instance ID and the boot
ID) are judged by what one part can tell: an *older* incarnation coming back
after a newer one appeared means two machines run at once, and the newer one is
marked.

:class:`Identity` is the one implementation of these rules. It works on rows
read in a few statements through a :class:`Reader` (the ingest statements,
collector/ingest/statements.py, on the driver's cursor), applies the rules to
requests in their order, and writes what changed. The ingest writer runs it for
a whole group of requests at once (collector/ingest/group.py); the other agent
endpoints run it for their one request through :func:`admit_one`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete
from sqlalchemy.orm import Session

from collector.auth.tokens import AGENT_PREFIX, hash_secret, new_secret
from collector.db.models import AgentIncarnation, AgentPreviousToken, AgentRow, ApiToken, School
from collector.errors import StoreError
from config.wire import EnrollResponse, ReenrollRequest, RotateResponse

log = logging.getLogger("socle.collector.identity")

UNKNOWN_AGENT = "unknown or revoked agent credential: enrol the agent again"
CLONE_MESSAGE = ("this agent's identity is in use on another machine at the same time (a cloned disk "
                 "image?): this machine must re-enrol ('socle-agent' does it by itself)")
PREVIOUS_TOKEN_GRACE = timedelta(days=7)
CHUNK = 500  # values per IN (...) list
LINEAGE = "m:"  # how a lineage is kept among an agent's incarnations (a one-part one is kept as it is)
_HEX = frozenset("0123456789abcdef")


class Reader(Protocol):
    """The statements :class:`Identity` reads and writes with (collector/ingest/statements.py)."""

    def agents_by_token(self, cur: Any, hashes: Sequence[str]) -> list[tuple[Any, ...]]: ...
    def agents_by_id(self, cur: Any, ids: Sequence[str]) -> list[tuple[str, str, str]]: ...
    def previous_tokens(self, cur: Any, hashes: Sequence[str],
                        ids: Sequence[str]) -> list[tuple[str, str, datetime]]: ...
    def incarnations(self, cur: Any,
                     ids: Sequence[str]) -> list[tuple[str, str, datetime, datetime | None]]: ...
    def drop_previous(self, cur: Any, ids: Sequence[str]) -> None: ...
    def add_incarnations(self, cur: Any, rows: Iterable[tuple[str, str, datetime, datetime,
                                                               datetime | None]]) -> None: ...
    def mark_clones(self, cur: Any, rows: Iterable[tuple[str, str, datetime]]) -> None: ...
    def see_machines(self, cur: Any, seen: Sequence[tuple[str, str, datetime]]) -> None: ...


@dataclass(frozen=True)
class Caller:
    """The agent behind a request's credential."""

    agent_id: str
    school_uai: str
    room: str


@dataclass
class Machine:
    """One incarnation of an agent, as read and as the requests so far changed it."""

    first_seen_at: datetime
    clone_detected_at: datetime | None
    new: bool = False
    last_seen_at: datetime | None = None  # set: to be written
    marked: bool = False  # clone_detected_at to be written


@dataclass(frozen=True)
class Retired:
    """A rotated-out credential: whose it was, and when the rotation retired it."""

    agent_id: str
    retired_at: datetime


def machine_key(incarnation: str) -> tuple[str, bool]:
    """How a request's incarnation is kept, and whether it names a lineage (``LINEAGE.BOOT``)."""
    lineage, dot, boot = incarnation.partition(".")
    if dot and lineage and boot and set(lineage) <= _HEX and set(boot) <= _HEX:
        return LINEAGE + lineage, True
    return incarnation, False


def _chunks(values: Sequence[str]) -> list[Sequence[str]]:
    return [values[i : i + CHUNK] for i in range(0, len(values), CHUNK)]


class Identity:
    """The credentials and machines behind some requests, read at once, then judged request by request.

    :meth:`admit` says who is calling (or refuses: 401, 409), :meth:`see` records
    the machine of a request that goes on, :meth:`write` stores what changed.
    """

    def __init__(self, sql: Reader, cur: Any, token_hashes: Iterable[str]) -> None:
        hashes = sorted(set(token_hashes))
        self.by_token: dict[str, Caller] = {}
        self.machines: dict[str, dict[str, Machine]] = {}
        rotated: set[str] = set()  # agents read that have rotated-out credentials
        for part in _chunks(hashes):
            for aid, uai, room, h, has_previous, inc, first, clone in sql.agents_by_token(cur, part):
                self.by_token[h] = Caller(aid, uai, room)
                machines = self.machines.setdefault(aid, {})
                if inc is not None:
                    machines[inc] = Machine(first, clone)
                if has_previous:
                    rotated.add(aid)
        missing = [h for h in hashes if h not in self.by_token]
        known = sorted(rotated)  # (an agent without rotated-out credentials has none to find or drop)
        self.retired: dict[str, Retired] = {}  # token hash -> its agent and retirement
        self.with_previous: set[str] = set()
        for i in range(0, max(len(missing), len(known)), CHUNK):
            for h, aid, at in sql.previous_tokens(cur, missing[i : i + CHUNK], known[i : i + CHUNK]):
                self.retired[h] = Retired(aid, at)
                self.with_previous.add(aid)
        self.by_id = {c.agent_id: c for c in self.by_token.values()}
        wanted = sorted({r.agent_id for r in self.retired.values()} - set(self.by_id))
        for part in _chunks(wanted):
            for aid, uai, room in sql.agents_by_id(cur, part):
                self.by_id[aid] = Caller(aid, uai, room)
        self.dropped: list[str] = []  # agents whose rotated-out credentials go (their new one was used)
        for part in _chunks(sorted(set(self.by_id) - set(self.machines))):  # found by a rotated-out one
            for aid, inc, first, clone in sql.incarnations(cur, part):
                self.machines.setdefault(aid, {})[inc] = Machine(first, clone)

    def authenticate(self, token_hash: str, now: datetime, write: bool) -> Caller | None:
        """The live agent behind a credential; a rotated-out one still works for
        :data:`PREVIOUS_TOKEN_GRACE`, until the new one is used by a request that writes (``write``)."""
        caller = self.by_token.get(token_hash)
        if caller is not None:
            if write and caller.agent_id in self.with_previous:
                self.with_previous.discard(caller.agent_id)
                self.retired = {h: r for h, r in self.retired.items() if r.agent_id != caller.agent_id}
                self.dropped.append(caller.agent_id)
            return caller
        old = self.retired.get(token_hash)
        if old is None or old.retired_at + PREVIOUS_TOKEN_GRACE < now:
            return None
        return self.by_id.get(old.agent_id)

    def is_clone(self, caller: Caller, incarnation: str) -> bool:
        """Whether this machine was already told it is a clone."""
        machine = self.machines.get(caller.agent_id, {}).get(incarnation)
        return machine is not None and machine.clone_detected_at is not None

    def admit(self, token_hash: str, incarnation: str | None, now: datetime, write: bool) -> Caller:
        """The caller of a request, or its refusal: 401 for an unknown or revoked credential, 409 for a
        machine told it holds a cloned identity — one marked before, or a lineage other than the one
        that holds the identity (it is marked now)."""
        caller = self.authenticate(token_hash, now, write)
        if caller is None:
            raise StoreError(401, UNKNOWN_AGENT)
        if not incarnation:
            return caller
        key, lineage = machine_key(incarnation)
        machines = self.machines.setdefault(caller.agent_id, {})
        machine = machines.get(key)
        if machine is None and lineage and self._holder(machines) is not None:
            machines[key] = Machine(first_seen_at=now, clone_detected_at=now, new=True, last_seen_at=now)
            log.warning("agent %s (%s, room %s): a second machine uses its credential; it must re-enrol",
                        caller.agent_id, caller.school_uai, caller.room)
            raise StoreError(409, CLONE_MESSAGE)
        if machine is not None and machine.clone_detected_at is not None:
            raise StoreError(409, CLONE_MESSAGE)
        return caller

    @staticmethod
    def _holder(machines: dict[str, Machine]) -> str | None:
        """The lineage that holds the identity: the first seen of those not marked."""
        live = [(m.first_seen_at, key) for key, m in machines.items()
                if key.startswith(LINEAGE) and m.clone_detected_at is None]
        return min(live)[1] if live else None

    def see(self, caller: Caller, incarnation: str, now: datetime) -> None:
        """Record the machine of a request that :meth:`admit` let in."""
        key, lineage = machine_key(incarnation)
        machines = self.machines.setdefault(caller.agent_id, {})
        machine = machines.get(key)
        if machine is None:
            machines[key] = Machine(first_seen_at=now, clone_detected_at=None, new=True, last_seen_at=now)
            return
        machine.last_seen_at = now
        if lineage:
            return
        # A one-part incarnation: an older one back after a newer one appeared means both are running.
        live = [(m.first_seen_at, name, m) for name, m in machines.items()
                if not name.startswith(LINEAGE) and m.clone_detected_at is None]
        newest = max(live, key=lambda t: (t[0], t[1]))[2]
        if newest is not machine:
            newest.clone_detected_at = now
            newest.marked = True
            log.warning("agent %s (%s, room %s): credential in use by two machines; the newer one "
                        "must re-enrol", caller.agent_id, caller.school_uai, caller.room)

    def write(self, sql: Reader, cur: Any) -> list[tuple[str, str, datetime]]:
        """Store the changes but the machines seen again: rotated-out credentials dropped, new machines,
        clones marked. Returns the machines seen again, (agent, incarnation, when), for the caller to
        store with its own writes (:meth:`Reader.see_machines`; ingest stores them with the reports)."""
        for part in _chunks(self.dropped):
            sql.drop_previous(cur, part)
        new, seen, marked = [], [], []
        for aid, machines in self.machines.items():
            for inc, m in machines.items():
                if m.new:
                    assert m.last_seen_at is not None  # a new one is seen now
                    new.append((aid, inc, m.first_seen_at, m.last_seen_at, m.clone_detected_at))
                    continue
                if m.last_seen_at is not None:
                    seen.append((aid, inc, m.last_seen_at))
                if m.marked:
                    assert m.clone_detected_at is not None
                    marked.append((aid, inc, m.clone_detected_at))
        if new:
            sql.add_incarnations(cur, new)
        if marked:
            sql.mark_clones(cur, marked)
        return seen


def wrong_school(enrolled_to: str, report_for: str) -> StoreError:
    """The refusal of a report for another school than the agent's (403)."""
    return StoreError(403, f"this agent is enrolled to {enrolled_to}, not {report_for}")


def admit_one(sql: Reader, cur: Any, token: str, incarnation: str | None, now: datetime,
              refuse_clones: bool = True) -> Caller:
    """One request's caller, its machine recorded, in the cursor's transaction (the agent endpoints but
    ingest). A machine found to be a clone is recorded before the 409 is raised: the caller commits
    it. ``refuse_clones`` False: a marked clone is let in and its machine not recorded (it is
    re-enrolling)."""
    token_hash = hash_secret(token)
    ident = Identity(sql, cur, [token_hash])
    try:
        caller = ident.admit(token_hash, incarnation if refuse_clones else None, now, write=True)
    except StoreError:
        seen = ident.write(sql, cur)  # a clone just found is kept marked, for its re-enrolment
        if seen:
            sql.see_machines(cur, seen)
        raise
    if incarnation and refuse_clones:
        ident.see(caller, incarnation, now)
    seen = ident.write(sql, cur)
    if seen:
        sql.see_machines(cur, seen)
    return caller


def reenroll_clone(session: Session, agent: AgentRow, incarnation: str | None, req: ReenrollRequest,
                   now: datetime) -> EnrollResponse:
    """Give a machine marked as a clone its own agent ID and credential (once per marked machine)."""
    row = None if incarnation is None else session.get(AgentIncarnation,
                                                        (agent.agent_id, machine_key(incarnation)[0]))
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
                   hostname=req.device.hostname, agent_version=req.agent_version, enrolled_at=now,
                   role=agent.role)  # a clone of the same image does the same job
    session.add(new)
    row.replaced_by = new.agent_id
    log.warning("clone of agent %s re-enrolled as %s (%s)", agent.agent_id, new.agent_id,
                req.device.hostname)
    return EnrollResponse(agent_id=uuid.UUID(new.agent_id), token=new_token, school_uai=school.uai,
                          school_name=school.name, room=new.room, role=new.role)


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
