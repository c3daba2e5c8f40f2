"""One group commit of ingest: many requests' reports in one transaction (collector/ingest/writer.py).

:func:`run_group` takes every pending request at once, in the order they came:
it admits each caller by the agent identity rules (collector/auth/identity.py:
the credential, a rotated-out one within its grace, the clone rule on the
request's incarnation), refuses a report for another school, then inserts the
reports (``ON CONFLICT DO NOTHING RETURNING``: a duplicate is a report not
returned, even one sent twice in the group) with their sample sets, counts each
stored report against its school's verdict (collector/judge/verdicts.py) and
updates the agents' ``last_seen_at``. A few statements per group, not per
request, on the driver's connection (collector/ingest/statements.py): on
PostgreSQL, one to read the credentials and one for all the writes. It does
not commit: the writer does, then answers.

A refused request (401, 409, or 403 for ``POST /reports``) writes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from collector.auth.identity import Identity, wrong_school
from collector.db.sample_sets import Packed, pack
from collector.edge.metrics import count_placed
from collector.errors import StoreError
from collector.ingest.clock import placement
from collector.ingest.statements import Statements, report_row
from config.wire import Report

log = logging.getLogger("socle.collector.ingest")


@dataclass
class Prepared:
    """A valid report made ready in the event loop: its row (without ``agent_id``) and its samples."""

    report_id: str
    school_uai: str
    row: dict[str, Any]
    samples: Packed | None  # None: nothing numeric was measured


def prepare(report: Report, received_at: datetime, raw: str | None = None) -> Prepared:
    """A valid report's row (``agent_id`` is added by the writer) and its samples, placed in time
    (collector/ingest/clock.py); ``raw``: the report's JSON as received, kept as its payload (else the
    payload is written from the model)."""
    placed = placement(report, received_at)
    row = report_row(report, received_at, raw, placed.shift)
    if placed.why is not None:
        log.info("report %s (%s, room %s): %s", row["report_id"], report.school_uai, report.room, placed.why)
        count_placed()
    return Prepared(report_id=row["report_id"], school_uai=report.school_uai, row=row,
                    samples=pack(report, placed.shift))


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


def run_group(sql: Statements, cur: Any, jobs: Sequence[Job],
              before_writing: Callable[[], None] | None = None) -> list[Outcome]:
    """Do the work of ``jobs`` on a DBAPI cursor, in its connection's transaction (not committed);
    one outcome each.

    ``before_writing`` is called once, after the reads and before the first write (the writer takes
    its turn on the database there: collector/ingest/writer.py).
    """
    ident = Identity(sql, cur, (j.token_hash for j in jobs))
    outcomes: list[Outcome] = []
    rows: list[dict[str, Any]] = []  # report rows to insert, first occurrence of each id
    sets: list[tuple[Packed, tuple[Any, ...]]] = []  # their sample sets, with their rows
    owners: list[tuple[Outcome, int, Prepared]] = []  # (outcome, index, report) to settle
    seen_ids: set[str] = set()
    for job in jobs:
        out = Outcome()
        outcomes.append(out)
        try:
            agent = ident.admit(job.token_hash, job.incarnation, job.now, write=job.reports is not None)
        except StoreError as refused:
            out.error = refused
            continue
        if job.reports is None:
            continue
        if job.single and job.reports and job.reports[0].school_uai != agent.school_uai:
            out.error = wrong_school(agent.school_uai, job.reports[0].school_uai)
            continue
        if job.incarnation:
            ident.see(agent, job.incarnation, job.now)
        for index, rep in enumerate(job.reports):
            if rep.school_uai != agent.school_uai:
                out.statuses.append(wrong_school(agent.school_uai, rep.school_uai))
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

