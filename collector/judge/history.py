"""A school's verdict history: each change of its level and of each rule's outcome, and since when.

Every judge path stores its verdicts through :func:`collector.judge.verdicts.write_verdicts`
(the sweep, a reader that judges what is out of date, ``socle-collector evaluate``, a
full re-evaluation in worker processes), and that function already reads back the
stored verdict to skip rewriting an unchanged one. The verdicts that did change are
handed to :func:`changes` there, which writes one entry per changed subject (the
level, or a rule's outcome): from what, to what, when and why. A night without change
writes nothing, and a full re-evaluation writes only the schools whose level or
outcomes moved.

The cause of an entry:

* ``profile`` — a new profile version judged the school (its digest changed): the
  rules moved, not the school;
* ``silent`` — the level or outcome became ``no_data`` (the samples left the window);
* ``heard`` — it was ``no_data`` and now has data;
* ``data`` — anything else: new measurements, or the school's pupil or staff count.

The evidence at that time (the reference judge's, :func:`config.readiness.evaluate`) costs
a read of the school's samples and is not what a sweep of 50,000 schools should wait
for: entries are written without it, and :func:`record_evidence` (run after each sweep
by ``serve`` and by ``socle-collector evaluate``) judges those schools again as of the
entry's moment, from the samples stored, and keeps it. An entry made under another
profile version than the running one says so instead.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, Table, select, update

from collector.db.engine import as_utc
from collector.db.models import School
from collector.db.sample_sets import school_samples
from collector.db.verdict_tables import SchoolVerdict, VerdictHistoryRow
from collector.judge.plan import NO_DATA, profile_hash
from config.profile import Profile
from config.readiness import SchoolFacts, evaluate

log = logging.getLogger("socle.collector.history")

LEVEL = "level"  # the subject of a change of level; a rule's changes have its id
CAUSES = ("data", "profile", "silent", "heard")
_H: Table = VerdictHistoryRow.__table__  # type: ignore[assignment]
_V: Table = SchoolVerdict.__table__  # type: ignore[assignment]
_S: Table = School.__table__  # type: ignore[assignment]
_FIELDS = ("school_uai", "at", "subject", "was", "became", "cause", "profile_hash", "alerted")
EVIDENCE_BATCH = 200  # schools whose evidence one call of record_evidence records


class Entry(NamedTuple):
    """A history entry as written (``at`` in the driver's form)."""

    school_uai: str
    at: Any
    subject: str
    was: str | None
    became: str | None
    cause: str
    profile_hash: str
    alerted: bool | None  # False: a change of level the alerts are to tell (collector/alerts/plan.py)


def cause_of(was: str | None, became: str | None, new_profile: bool) -> str:
    """Why a level or outcome went from ``was`` to ``became`` (see the module docstring)."""
    if new_profile:
        return "profile"
    if became == NO_DATA:
        return "silent"
    if was == NO_DATA:
        return "heard"
    return "data"


def changes(uai: str, at: Any, old: tuple[str, str], new: tuple[str, str], new_profile: bool,
            digest: str) -> list[Entry]:
    """The entries of one school's change: ``old`` and ``new`` are (level, outcomes as JSON text)."""
    out = []
    if old[0] != new[0]:  # told by the alerts, unless a new profile version did it
        out.append(Entry(uai, at, LEVEL, old[0], new[0], cause_of(old[0], new[0], new_profile), digest,
                         None if new_profile else False))
    if old[1] != new[1]:
        before: dict[str, str] = json.loads(old[1]) if isinstance(old[1], str) else old[1]
        after: dict[str, str] = json.loads(new[1])
        for rid in (*after, *(r for r in before if r not in after)):
            was, became = before.get(rid), after.get(rid)
            if was != became:
                out.append(Entry(uai, at, rid, was, became, cause_of(was, became, new_profile), digest, None))
    return out


def record_changes(cur: Any, pg: bool, entries: list[Entry]) -> None:
    """Insert ``entries`` through the driver's cursor, in the caller's transaction."""
    if entries:
        mark = "%s" if pg else "?"
        cur.executemany(f"INSERT INTO {_H.name} ({', '.join(_FIELDS)}) "
                        f"VALUES ({', '.join([mark] * len(_FIELDS))})", entries)


def _evidence(profile: Profile, conn: Connection, uai: str, at: datetime,
              subjects: list[str]) -> dict[str, Any]:
    """The reference judge's evidence for ``subjects`` of one school as of ``at``: per subject, the
    rules it covers (a rule: itself; the level: every rule not met and every rule that changed with it)
    with their outcome and evidence."""
    school = conn.execute(select(_S.c.pupils, _S.c.staff).where(_S.c.uai == uai)).one()
    longest = max(rule.window_days for rule in profile.rules)
    # The rules' metrics only: each rule reads its own (config.readiness.evaluate), and a set holds
    # several times as many values as the rules read.
    samples = school_samples(conn, uai, at - timedelta(days=longest), {r.metric for r in profile.rules})
    ev = evaluate(profile, samples, at, SchoolFacts(pupils=school.pupils, staff=school.staff))

    def rule(o: Any) -> dict[str, Any]:
        return {"rule_id": o.rule_id, "title": o.title, "outcome": o.outcome.value,
                "evidence": [e.model_dump(mode="json", exclude_none=True) for e in o.evidence]}

    out: dict[str, Any] = {}
    for subject in subjects:
        if subject == LEVEL:
            out[subject] = {"level": ev.level.value,
                            "rules": [rule(o) for o in ev.outcomes
                                      if o.outcome.value != "pass" or o.rule_id in subjects]}
        else:
            out[subject] = {"rules": [rule(o) for o in ev.outcomes if o.rule_id == subject]}
    return out


def record_evidence(engine: Engine, profile: Profile, limit: int = EVIDENCE_BATCH) -> int:
    """Record the evidence of entries written without it, for up to ``limit`` school changes; how many."""
    digest = profile_hash(profile)
    with engine.connect() as conn:
        pending = conn.execute(select(_H.c.id, _H.c.school_uai, _H.c.at, _H.c.subject, _H.c.profile_hash)
                               .where(_H.c.evidence.is_(None)).order_by(_H.c.id).limit(limit * 30)).all()
        conn.rollback()
    groups: dict[tuple[str, Any, str], list[tuple[int, str]]] = {}
    for id_, uai, at, subject, made_by in pending:
        key = (uai, at, made_by)
        if key in groups or len(groups) < limit:
            groups.setdefault(key, []).append((id_, subject))
    for (uai, at, made_by), items in groups.items():
        with engine.begin() as conn:
            if made_by != digest:
                found = {s: {"unavailable": "judged under another profile version than this collector's: "
                                            "its evidence was not recorded"} for _, s in items}
            else:
                try:
                    found = _evidence(profile, conn, uai, as_utc(at), [s for _, s in items])
                except Exception as exc:  # one school's samples must not hold back every later change
                    log.exception("the evidence of %s's change at %s could not be recorded", uai, at)
                    found = {s: {"unavailable": f"could not be judged again: {type(exc).__name__}"}
                             for _, s in items}
            for id_, subject in items:
                conn.execute(update(_H).where(_H.c.id == id_).values(evidence=found[subject]))
    if groups:
        log.info("recorded the evidence of %d verdict change(s)", len(groups))
    return len(groups)


@dataclass(frozen=True)
class Change:
    """A history entry as the pages, the API and the exports show it."""

    at: datetime
    subject: str
    was: str | None
    became: str | None
    cause: str
    evidence: Any  # None: not recorded yet

    def public(self) -> dict[str, Any]:
        """The entry as JSON."""
        return {"at": self.at.isoformat(), "subject": self.subject, "was": self.was, "became": self.became,
                "cause": self.cause, "evidence": self.evidence}


def school_history(conn: Connection, uai: str, limit: int = 500) -> list[Change]:
    """A school's changes, newest first."""
    rows = conn.execute(select(_H.c.at, _H.c.subject, _H.c.was, _H.c.became, _H.c.cause, _H.c.evidence)
                        .where(_H.c.school_uai == uai).order_by(_H.c.at.desc(), _H.c.id.desc())
                        .limit(limit)).all()
    return [Change(as_utc(at), subject, was, became, cause, evidence)
            for at, subject, was, became, cause, evidence in rows]


def level_since(conn: Connection, uais: list[str] | None = None) -> dict[str, datetime]:
    """When each school's current level began (those with a stored verdict; ``uais``: only those)."""
    query = select(_V.c.school_uai, _V.c.since).where(_V.c.since.is_not(None))
    out = {u: as_utc(t) for u, t in conn.execute(query)}
    return out if uais is None else {u: out[u] for u in uais if u in out}


@dataclass(frozen=True)
class Timeline:
    """Since when a school stands where it does: its level, each rule not met, and its changes.

    A ``since`` of None: since the school was first judged (no change recorded since then)."""

    level: str
    since: datetime | None
    rules: dict[str, tuple[str, datetime | None]]  # rule id -> (outcome, since) of the rules not met
    changes: list[Change]

    def public(self) -> dict[str, Any]:
        """The timeline as JSON."""
        return {"level": self.level, "since": None if self.since is None else self.since.isoformat(),
                "rules": {rid: {"outcome": o, "since": None if t is None else t.isoformat()}
                          for rid, (o, t) in self.rules.items()},
                "changes": [c.public() for c in self.changes]}


def timeline(conn: Connection, uai: str) -> Timeline | None:
    """A school's timeline from its stored verdict and history (None: never judged)."""
    row = conn.execute(select(_V.c.level, _V.c.since, _V.c.outcomes, _V.c.profile_hash)
                       .where(_V.c.school_uai == uai)).first()
    if row is None or not row.profile_hash:
        return None
    history = school_history(conn, uai)
    outcomes: dict[str, str] = row.outcomes if isinstance(row.outcomes, dict) else json.loads(row.outcomes)
    rules: dict[str, tuple[str, datetime | None]] = {}
    for rid, outcome in outcomes.items():
        if outcome == "pass":
            continue
        latest = next((c for c in history if c.subject == rid), None)  # newest first
        rules[rid] = (outcome, latest.at if latest is not None and latest.became == outcome else None)
    return Timeline(row.level, None if row.since is None else as_utc(row.since), rules, history)
