"""Each school's standing for the overview: level, failing rules, silent — cached per app.

Judging a school reads its samples and runs the pure ``evaluate()``; doing that
for 50,000 schools on every page view is too slow, so the overview keeps, per
app process, the last verdict of each school that has agents. A verdict is
judged again when one of the school's agents has reported since (the agents'
``last_seen_at``, which ingest moves), or when it is older than
:data:`TTL` (rule windows slide, agents fall silent, pupil counts change).
A school with no agent at all has nothing to judge: its level is ``no_data``.
The school page always judges afresh.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from collector.access import ScopeError, covers, parse_scope
from collector.db import as_utc
from collector.models import AgentRow, School
from collector.store import evaluate_school
from config.profile import Profile
from config.wire import Level

TTL = timedelta(minutes=10)
DIRECTORY_TTL = timedelta(minutes=1)
LEVELS = (Level.not_ready.value, Level.base.value, Level.target.value, Level.no_data.value)
SILENT = "silent"


@dataclass(frozen=True)
class Standing:
    """A school's verdict as the overview shows it."""

    level: str
    failing: tuple[str, ...] = ()
    silent: bool = False
    computed_at: datetime | None = None
    seen_at: datetime | None = None


NO_AGENT = Standing(level=Level.no_data.value)


@dataclass(frozen=True)
class AgentsSummary:
    """What a school's agents say about it: when one last reported, and whether all went silent."""

    last_seen_at: datetime | None
    live: int
    silent: bool


@dataclass
class Directory:
    """The schools, sorted by commune then name, as the list reads them."""

    rows: list[Any]
    version: tuple[Any, ...]
    loaded: float
    by_scope: dict[str, tuple[list[Any], list[str]]] = field(default_factory=dict)


@dataclass
class StandingCache:
    """The per-app cache of verdicts and of the directory (thread-safe: sync routes run in threads)."""

    entries: dict[str, Standing] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    directory: Directory | None = None


def cache_of(app_state: Any) -> StandingCache:
    """The cache kept on the app's state (made on first use)."""
    cache = getattr(app_state, "socle_standings", None)
    if cache is None:
        cache = StandingCache()
        app_state.socle_standings = cache
    return cache


def agents_summary(session: Session, profile: Profile, now: datetime) -> dict[str, AgentsSummary]:
    """Per school with agents: the latest report time (any agent, revoked ones too) and silence.

    A school is silent when it has live (not revoked) agents and none of them
    has reported for ``silent_after_days`` (one never heard from counts from
    its enrolment).
    """
    cutoff = now - timedelta(days=profile.profile.silent_after_days)
    rows = session.execute(select(AgentRow.school_uai, AgentRow.last_seen_at, AgentRow.enrolled_at,
                                  AgentRow.revoked_at))
    acc: dict[str, list[Any]] = {}
    for uai, seen, enrolled, revoked in rows:
        entry = acc.setdefault(uai, [None, 0, 0])
        seen = as_utc(seen) if seen is not None else None
        if seen is not None and (entry[0] is None or seen > entry[0]):
            entry[0] = seen
        if revoked is None:
            entry[1] += 1
            heard = seen or as_utc(enrolled)
            entry[2] += heard < cutoff
    return {uai: AgentsSummary(last_seen_at=e[0], live=e[1], silent=e[1] > 0 and e[2] == e[1])
            for uai, e in acc.items()}


def judge(session: Session, school: School, profile: Profile, now: datetime,
          agents: AgentsSummary | None) -> Standing:
    """A fresh verdict for one school."""
    ev = evaluate_school(session, school, profile, now)
    return Standing(level=ev.level.value, failing=tuple(o.rule_id for o in ev.failing()),
                    silent=bool(agents and agents.silent), computed_at=now,
                    seen_at=agents.last_seen_at if agents else None)


def standings(session: Session, profile: Profile, now: datetime, cache: StandingCache,
              uais: list[str] | None = None) -> dict[str, Standing]:
    """The verdict of every school with agents (or of ``uais``), judging again what is stale."""
    agents = agents_summary(session, profile, now)
    wanted = agents.keys() if uais is None else [u for u in uais if u in agents]
    with cache.lock:
        stale = [u for u in wanted if _stale(cache.entries.get(u), agents[u], now)]
    if stale:
        fresh = {}
        for i in range(0, len(stale), 500):
            for school in session.scalars(select(School).where(School.uai.in_(stale[i : i + 500]))):
                fresh[school.uai] = judge(session, school, profile, now, agents[school.uai])
        with cache.lock:
            cache.entries.update(fresh)
    with cache.lock:
        return {u: cache.entries[u] for u in wanted if u in cache.entries}


def _stale(entry: Standing | None, agents: AgentsSummary, now: datetime) -> bool:
    if entry is None or entry.computed_at is None:
        return True
    if entry.computed_at < now - TTL or entry.computed_at > now:
        return True
    if agents.last_seen_at is not None and (entry.seen_at is None or agents.last_seen_at > entry.seen_at):
        return True
    return entry.silent != agents.silent


def directory(session: Session, cache: StandingCache, scope: str) -> tuple[list[Any], list[str]]:
    """The schools a scope covers, sorted by commune then name (rows with uai, name, commune,
    departement, academie, school_type, pupils), and the départements among them.

    Loaded again when a school is added (count or newest creation time moved) or
    after :data:`DIRECTORY_TTL`, so an edit of a school's name or commune shows
    within a minute.
    """
    version = tuple(session.execute(select(func.count(), func.max(School.created_at))).one())
    with cache.lock:
        d = cache.directory
    if d is None or d.version != version or time.monotonic() - d.loaded > DIRECTORY_TTL.total_seconds():
        rows = session.execute(select(School.uai, School.name, School.commune, School.departement,
                                      School.academie, School.school_type, School.pupils)
                               .order_by(School.commune, School.name)).all()
        d = Directory(rows=list(rows), version=version, loaded=time.monotonic())
        with cache.lock:
            cache.directory = d
    with cache.lock:
        scoped = d.by_scope.get(scope)
    if scoped is None:
        try:
            parsed = parse_scope(scope)
        except ScopeError:
            parsed = None  # a damaged scope covers nothing
        rows = d.rows if parsed is not None and parsed.kind == "all" else \
            [r for r in d.rows if parsed is not None and covers(parsed, r)]
        scoped = (rows, sorted({r.departement for r in rows if r.departement}))
        with cache.lock:
            d.by_scope[scope] = scoped
    return scoped


def standing_of(uai: str, table: dict[str, Standing]) -> Standing:
    """A school's verdict from :func:`standings`' table (``no_data`` when it has no agent)."""
    return table.get(uai, NO_AGENT)


def school_count(session: Session) -> int:
    """How many schools the collector knows."""
    return session.scalar(select(func.count()).select_from(School)) or 0
