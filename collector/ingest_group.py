"""One group commit of ingest: many requests' reports in one transaction (collector/ingest_writer.py).

:func:`run_group` does, for every pending request at once and in the order they
came, what a request did on its own before (collector/identity.py,
collector/store.py): authenticate the credential (a rotated-out one within its
grace, the old one dropped once the new one is used), apply the clone rule to
the request's incarnation, refuse a report for another school, insert the
reports (``ON CONFLICT DO NOTHING RETURNING``: a duplicate is a report not
returned, even one sent twice in the group), their samples, count each stored
report against its school's verdict (collector/verdicts.py) and
update the agents' ``last_seen_at``. A few statements per group, not per
request, on the driver's connection (collector/ingest_statements.py): on
PostgreSQL, one to read the credentials and one for all the writes. It does
not commit: the writer does, then answers.

A refused request (401, 409, or 403 for ``POST /reports``) writes nothing, as
when its own transaction was rolled back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from collector.identity import CLONE_MESSAGE, PREVIOUS_TOKEN_GRACE
from collector.ingest_statements import Statements
from collector.sample_sets import Packed
from collector.store import StoreError

log = logging.getLogger("socle.collector.identity")

UNKNOWN_AGENT = "unknown or revoked agent credential: enrol the agent again"


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


def _in_chunks(values: Sequence[str], size: int = 500) -> list[Sequence[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


class _Identity:
    """The group's credentials and incarnations, read in a few statements, then applied in order."""

    def __init__(self, sql: Statements, cur: Any, jobs: Sequence[Job]) -> None:
        hashes = sorted({j.token_hash for j in jobs})
        self.by_token: dict[str, _Agent] = {}
        self.incs: dict[str, dict[str, _Inc]] = {}
        rotated: set[str] = set()  # agents read that have rotated-out credentials
        for part in _in_chunks(hashes):
            for aid, uai, room, h, has_previous, inc, first, clone in sql.agents_by_token(cur, part):
                self.by_token[h] = _Agent(aid, uai, room)
                machines = self.incs.setdefault(aid, {})
                if inc is not None:
                    machines[inc] = _Inc(first, clone)
                if has_previous:
                    rotated.add(aid)
        missing = [h for h in hashes if h not in self.by_token]
        known = sorted(rotated)  # (an agent without rotated-out credentials has none to find or drop)
        self.previous: dict[str, tuple[str, datetime]] = {}  # token hash -> (agent, retired at)
        self.with_previous: set[str] = set()
        for i in range(0, max(len(missing), len(known)), 500):
            for h, aid, retired in sql.previous_tokens(cur, missing[i : i + 500], known[i : i + 500]):
                self.previous[h] = (aid, retired)
                self.with_previous.add(aid)
        self.by_id = {a.agent_id: a for a in self.by_token.values()}
        wanted = sorted({aid for aid, _ in self.previous.values()} - set(self.by_id))
        for part in _in_chunks(wanted):
            for aid, uai, room in sql.agents_by_id(cur, part):
                self.by_id[aid] = _Agent(aid, uai, room)
        self.dropped: list[str] = []  # agents whose previous credentials go (their new one was used)
        for part in _in_chunks(sorted(set(self.by_id) - set(self.incs))):  # found by a rotated-out one
            for aid, inc, first, clone in sql.incarnations(cur, part):
                self.incs.setdefault(aid, {})[inc] = _Inc(first, clone)

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

    def write(self, sql: Statements, cur: Any) -> list[tuple[str, str, datetime]]:
        """The identity changes of the group but the machines seen again: previous credentials dropped,
        new machines, clones marked. The machines seen again, (agent, incarnation, when), are left to
        :meth:`Statements.store`, with the reports."""
        for part in _in_chunks(self.dropped):
            sql.drop_previous(cur, part)
        new, seen, marked = [], [], []
        for aid, rows in self.incs.items():
            for inc, r in rows.items():
                if r.new:
                    assert r.last_seen_at is not None  # a new one is seen now
                    new.append((aid, inc, r.first_seen_at, r.last_seen_at, r.clone_detected_at))
                    continue
                if r.last_seen_at is not None:
                    seen.append((aid, inc, r.last_seen_at))
                if r.marked:
                    assert r.clone_detected_at is not None
                    marked.append((aid, inc, r.clone_detected_at))
        if new:
            sql.add_incarnations(cur, new)
        if marked:
            sql.mark_clones(cur, marked)
        return seen


def run_group(sql: Statements, cur: Any, jobs: Sequence[Job],
              before_writing: Callable[[], None] | None = None) -> list[Outcome]:
    """Do the work of ``jobs`` on a DBAPI cursor, in its connection's transaction (not committed);
    one outcome each.

    ``before_writing`` is called once, after the reads and before the first write (the writer takes
    its turn on the database there: collector/ingest_writer.py).
    """
    ident = _Identity(sql, cur, jobs)
    outcomes: list[Outcome] = []
    rows: list[dict[str, Any]] = []  # report rows to insert, first occurrence of each id
    sets: list[tuple[Packed, tuple[Any, ...]]] = []  # their sample sets, with their rows
    owners: list[tuple[Outcome, int, Prepared]] = []  # (outcome, index, report) to settle
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
            owners.append((out, index, rep))
            if rep.report_id not in seen_ids:
                seen_ids.add(rep.report_id)
                rows.append({**rep.row, "agent_id": agent.agent_id})
                packed = rep.samples
                if packed is not None:
                    sets.append((packed, packed.row(rep.report_id, rep.school_uai, rep.row["room"])))
    if before_writing is not None:
        before_writing()
    seen = ident.write(sql, cur)
    stored = sql.store(cur, rows, sets, seen) if rows or seen else set()
    for out, index, rep in owners:
        if rep.report_id in stored:
            stored.discard(rep.report_id)  # a second copy in the same group is a duplicate
            out.statuses[index] = "stored"
    return outcomes


def _wrong_school(agent: _Agent, rep: Prepared) -> StoreError:
    return StoreError(403, f"this agent is enrolled to {agent.school_uai}, not {rep.school_uai}")

