"""One group commit of ingest: many requests' reports in one transaction (collector/ingest_writer.py).

:func:`run_group` does, for every pending request at once and in the order they
came, what a request did on its own before (collector/identity.py,
collector/store.py): authenticate the credential (a rotated-out one within its
grace, the old one dropped once the new one is used), apply the clone rule to
the request's incarnation, refuse a report for another school, insert the
reports (``ON CONFLICT DO NOTHING RETURNING``: a duplicate is a report not
returned, even one sent twice in the group), their samples, count each stored
report against its school's verdict (:func:`collector.verdicts.note_reports`) and
update the agents' ``last_seen_at``. A few statements per group, not per
request. It does not commit: the writer does, then answers.

A refused request (401, 409, or 403 for ``POST /reports``) writes nothing, as
when its own transaction was rolled back.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, Connection, Table, bindparam, delete, or_, select, update

from collector.db import as_utc
from collector.identity import CLONE_MESSAGE, PREVIOUS_TOKEN_GRACE
from collector.ingest_sql import insert_report, insert_stmt
from collector.models import AgentIncarnation, AgentPreviousToken, AgentRow
from collector.sample_sets import Packed, insert_sets
from collector.store import StoreError
from collector.verdicts import note_reports

log = logging.getLogger("socle.collector.identity")

UNKNOWN_AGENT = "unknown or revoked agent credential: enrol the agent again"

_A: Table = AgentRow.__table__  # type: ignore[assignment]
_I: Table = AgentIncarnation.__table__  # type: ignore[assignment]
_P: Table = AgentPreviousToken.__table__  # type: ignore[assignment]


@dataclass
class Prepared:
    """A valid report made ready in the event loop: its row (without ``agent_id``) and its samples."""

    report_id: str
    school_uai: str
    row: dict[str, Any]
    samples: Packed | None  # None: nothing numeric was measured


@dataclass
class Job:
    """One request's work: its credential's hash, incarnation, clock and reports (None: only authenticate)."""

    token_hash: str
    incarnation: str | None
    now: datetime
    reports: list[Prepared] | None
    single: bool = False  # POST /reports: a report for another school refuses the whole request


@dataclass
class Outcome:
    """A request's answer: a refusal of the whole request, or one status per report."""

    error: StoreError | None = None
    statuses: list[str | StoreError] = field(default_factory=list)  # stored | duplicate | a refusal


@dataclass
class _Agent:
    agent_id: str
    school_uai: str
    room: str


@dataclass
class _Inc:
    first_seen_at: datetime
    clone_detected_at: datetime | None
    new: bool = False
    last_seen_at: datetime | None = None  # set: to be written
    marked: bool = False  # clone_detected_at to be written


# The group's reads, built once: the lists go in as expanding parameters (building a statement
# around a literal list of 50 hashes each time cost more than running it).
_HASHES: BindParameter[Any] = bindparam("hashes", expanding=True)
_IDS: BindParameter[Any] = bindparam("ids", expanding=True)
_BY_TOKEN = select(_A.c.agent_id, _A.c.school_uai, _A.c.room, _A.c.token_hash) \
    .where(_A.c.token_hash.in_(_HASHES), _A.c.revoked_at.is_(None))
_PREVIOUS = select(_P.c.token_hash, _P.c.agent_id, _P.c.retired_at) \
    .where(or_(_P.c.token_hash.in_(_HASHES), _P.c.agent_id.in_(_IDS)))
_BY_ID = select(_A.c.agent_id, _A.c.school_uai, _A.c.room).where(_A.c.agent_id.in_(_IDS),
                                                                 _A.c.revoked_at.is_(None))
_INCARNATIONS = select(_I.c.agent_id, _I.c.incarnation, _I.c.first_seen_at, _I.c.clone_detected_at) \
    .where(_I.c.agent_id.in_(_IDS))


def _in_chunks(values: Sequence[str], size: int = 500) -> list[Sequence[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


class _Identity:
    """The group's credentials and incarnations, read in a few statements, then applied in order."""

    def __init__(self, conn: Connection, jobs: Sequence[Job]) -> None:
        hashes = sorted({j.token_hash for j in jobs})
        self.by_token: dict[str, _Agent] = {}
        for part in _in_chunks(hashes):
            for aid, uai, room, h in conn.execute(_BY_TOKEN, {"hashes": part}):
                self.by_token[h] = _Agent(aid, uai, room)
        missing = [h for h in hashes if h not in self.by_token]
        known = sorted({a.agent_id for a in self.by_token.values()})
        self.previous: dict[str, tuple[str, datetime]] = {}  # token hash -> (agent, retired at)
        self.with_previous: set[str] = set()
        if missing or known:
            for h, aid, retired in conn.execute(_PREVIOUS, {"hashes": missing, "ids": known}):
                self.previous[h] = (aid, as_utc(retired))
                self.with_previous.add(aid)
        self.by_id = {a.agent_id: a for a in self.by_token.values()}
        wanted = sorted({aid for aid, _ in self.previous.values()} - set(self.by_id))
        for part in _in_chunks(wanted):
            for aid, uai, room in conn.execute(_BY_ID, {"ids": part}):
                self.by_id[aid] = _Agent(aid, uai, room)
        self.dropped: list[str] = []  # agents whose previous credentials go (their new one was used)
        self.incs: dict[str, dict[str, _Inc]] = {}
        ids = sorted(self.by_id)
        for part in _in_chunks(ids):
            for aid, inc, first, clone in conn.execute(_INCARNATIONS, {"ids": part}):
                self.incs.setdefault(aid, {})[inc] = _Inc(as_utc(first),
                                                          None if clone is None else as_utc(clone))

    def authenticate(self, job: Job, write: bool) -> _Agent | None:
        """collector.identity.authenticate_agent, on what was read (and what earlier jobs changed)."""
        agent = self.by_token.get(job.token_hash)
        if agent is not None:
            if write and agent.agent_id in self.with_previous:
                self.with_previous.discard(agent.agent_id)
                self.previous = {h: v for h, v in self.previous.items() if v[0] != agent.agent_id}
                self.dropped.append(agent.agent_id)
            return agent
        old = self.previous.get(job.token_hash)
        if old is None or old[1] + PREVIOUS_TOKEN_GRACE < job.now:
            return None
        return self.by_id.get(old[0])

    def is_clone(self, agent: _Agent, incarnation: str) -> bool:
        """Whether this machine was already told it is a clone (409)."""
        row = self.incs.get(agent.agent_id, {}).get(incarnation)
        return row is not None and row.clone_detected_at is not None

    def see(self, agent: _Agent, incarnation: str, now: datetime) -> None:
        """collector.identity.check_incarnation's bookkeeping, for a request that is not refused."""
        rows = self.incs.setdefault(agent.agent_id, {})
        row = rows.get(incarnation)
        if row is None:
            rows[incarnation] = _Inc(first_seen_at=now, clone_detected_at=None, new=True, last_seen_at=now)
            return
        live = [(r.first_seen_at, name, r) for name, r in rows.items() if r.clone_detected_at is None]
        newest = max(live, key=lambda t: (t[0], t[1]))[2]
        if newest is not row:
            newest.clone_detected_at = now
            newest.marked = True
            log.warning("agent %s (%s, room %s): credential in use by two machines; the newer one "
                        "must re-enrol", agent.agent_id, agent.school_uai, agent.room)
        row.last_seen_at = now

    def write(self, conn: Connection) -> None:
        """The identity changes of the group: previous credentials dropped, incarnations seen."""
        if self.dropped:
            conn.execute(delete(_P).where(_P.c.agent_id.in_(self.dropped)))
        new, seen, marked = [], [], []
        for aid, rows in self.incs.items():
            for inc, r in rows.items():
                if r.new:
                    new.append({"agent_id": aid, "incarnation": inc, "first_seen_at": r.first_seen_at,
                                "last_seen_at": r.last_seen_at, "clone_detected_at": r.clone_detected_at})
                    continue
                if r.last_seen_at is not None:
                    seen.append({"a": aid, "i": inc, "seen": r.last_seen_at})
                if r.marked:
                    marked.append({"a": aid, "i": inc, "at": r.clone_detected_at})
        if new:
            conn.execute(_I.insert(), new)
        where = (_I.c.agent_id == bindparam("a"), _I.c.incarnation == bindparam("i"))
        if seen:
            conn.execute(update(_I).where(*where).values(last_seen_at=bindparam("seen")), seen)
        if marked:
            conn.execute(update(_I).where(*where).values(clone_detected_at=bindparam("at")), marked)


def run_group(conn: Connection, jobs: Sequence[Job],
              before_writing: Callable[[], None] | None = None) -> list[Outcome]:
    """Do the work of ``jobs`` in the connection's transaction (not committed); one outcome each.

    ``before_writing`` is called once, after the reads and before the first write (the writer takes
    its turn on the database there: collector/ingest_writer.py).
    """
    ident = _Identity(conn, jobs)
    outcomes: list[Outcome] = []
    rows: list[dict[str, Any]] = []  # report rows to insert, first occurrence of each id
    owners: list[tuple[Outcome, int, Prepared, str]] = []  # (outcome, index, report, agent) to settle
    seen_ids: set[str] = set()
    for job in jobs:
        out = Outcome()
        outcomes.append(out)
        write = job.reports is not None
        agent = ident.authenticate(job, write)
        if agent is None:
            out.error = StoreError(401, UNKNOWN_AGENT)
            continue
        if job.incarnation and ident.is_clone(agent, job.incarnation):
            out.error = StoreError(409, CLONE_MESSAGE)
            continue
        if job.reports is None:
            continue
        if job.single and job.reports and job.reports[0].school_uai != agent.school_uai:
            out.error = _wrong_school(agent, job.reports[0])
            continue
        if job.incarnation:
            ident.see(agent, job.incarnation, job.now)
        for index, rep in enumerate(job.reports):
            if rep.school_uai != agent.school_uai:
                out.statuses.append(_wrong_school(agent, rep))
                continue
            out.statuses.append("duplicate")  # until the insert says otherwise
            owners.append((out, index, rep, agent.agent_id))
            if rep.report_id not in seen_ids:
                seen_ids.add(rep.report_id)
                rows.append({**rep.row, "agent_id": agent.agent_id})
    if before_writing is not None:
        before_writing()
    ident.write(conn)
    stored = _insert_reports(conn, rows)
    sets: list[tuple[Packed, tuple[Any, ...]]] = []
    last_seen: dict[str, datetime] = {}
    counted: list[str] = []
    for out, index, rep, aid in owners:
        if rep.report_id in stored:
            stored.discard(rep.report_id)  # a second copy in the same group is a duplicate
            out.statuses[index] = "stored"
            if rep.samples is not None:
                sets.append((rep.samples, rep.samples.row(rep.report_id, rep.school_uai, rep.row["room"])))
            counted.append(rep.school_uai)
            at = rep.row["received_at"]
            last_seen[aid] = max(at, last_seen.get(aid, at))
    insert_sets(conn, sets)
    note_reports(conn, dict(Counter(counted)))  # their schools' stored verdicts are now out of date
    if last_seen:
        seen = update(_A).where(_A.c.agent_id == bindparam("aid")).values(last_seen_at=bindparam("seen"))
        conn.execute(seen, [{"aid": a, "seen": s} for a, s in last_seen.items()])
    return outcomes


def _wrong_school(agent: _Agent, rep: Prepared) -> StoreError:
    return StoreError(403, f"this agent is enrolled to {agent.school_uai}, not {rep.school_uai}")


def _insert_reports(conn: Connection, rows: list[dict[str, Any]]) -> set[str]:
    """Insert report rows at once; the ids inserted (the others were already stored)."""
    if not rows:
        return set()
    stmt = insert_stmt(conn.dialect.name)
    if stmt is None:  # a database without ON CONFLICT: one by one
        return {r["report_id"] for r in rows if insert_report(conn, r)}
    return {rid for (rid,) in conn.execute(stmt, rows)}
