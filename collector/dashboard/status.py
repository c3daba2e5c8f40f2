"""Each school's standing for the overview: level, failing rules, silent.

The level and failing rules are the school's stored verdict (collector/judge/verdicts.py):
every collector process reads the same table, and a report received by any of
them makes the school's verdict out of date for all. Out of date verdicts are
judged again when read. A school with no agent and no verdict has nothing to
judge: its level is ``no_data``. Silence is worked out by the database from the
agents each time. The school page always judges afresh, with the evidence.

Two things are kept per process: the table of every stored verdict, read again
as soon as any process has stored verdicts since (collector/judge/verdicts.py
``VerdictCache``: out of date ones are still found and judged at each read), and
the directory (names and communes, for sorting and filtering), for at most
:data:`DIRECTORY_TTL`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from collector.auth.access import ScopeError, covers, parse_scope
from collector.db.models import AgentRow, School
from collector.judge.verdicts import Stored, VerdictCache, verdict_table
from config.profile import Profile
from config.wire import Level

DIRECTORY_TTL = timedelta(minutes=1)
LEVELS = (Level.not_ready.value, Level.base.value, Level.target.value, Level.no_data.value)
SILENT = "silent"


Standing = Stored  # a school's verdict as the overview shows it: level, failing rules, since, silent
NO_AGENT = Standing(level=Level.no_data.value, failing=())


class DirectoryRow(NamedTuple):
    """A school as the lists read it (a plain tuple: the lists go through every school per request)."""

    uai: str
    name: str
    commune: str
    departement: str | None
    academie: str | None
    school_type: str | None
    pupils: int | None
    commune_code: str | None
    circonscription: str | None
    circonscription_code: str | None
    classes: int | None
    latitude: float | None
    longitude: float | None


@dataclass
class Directory:
    """The schools, sorted by commune then name, as the list reads them."""

    rows: list[DirectoryRow]
    version: tuple[Any, ...]
    loaded: float
    by_scope: dict[str, tuple[list[Any], list[str]]] = field(default_factory=dict)


@dataclass
class StandingCache:
    """The per-app cache of the directory (thread-safe: sync routes run in threads)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    directory: Directory | None = None
    agents: tuple[tuple[Any, ...], frozenset[str]] | None = None  # with_agents: (version, schools)
    verdicts: VerdictCache = field(default_factory=VerdictCache)  # the app's (AppState.verdicts)


def cache_of(app_state: Any) -> StandingCache:
    """The cache kept on the app's state (made on first use)."""
    cache = getattr(app_state, "socle_standings", None)
    if cache is None:
        cache = StandingCache(verdicts=app_state.socle.verdicts)
        app_state.socle_standings = cache
    return cache


def silent_schools(session: Session, profile: Profile, now: datetime) -> list[str]:
    """The silent schools, worked out by the database: those with live (not revoked) agents none of
    which has reported for ``silent_after_days`` (one never heard from counts from its enrolment)."""
    cutoff = now - timedelta(days=profile.profile.silent_after_days)
    live = AgentRow.revoked_at.is_(None)
    heard = func.max(case((live, func.coalesce(AgentRow.last_seen_at, AgentRow.enrolled_at))))
    return list(session.scalars(select(AgentRow.school_uai).group_by(AgentRow.school_uai)
                                .having(and_(func.count(case((live, 1))) > 0, heard < cutoff))))


def with_agents(session: Session, cache: StandingCache | None) -> frozenset[str]:
    """The schools that have agents (revoked ones too), kept in ``cache`` while no agent was added or
    removed (the count and the newest enrolment have not moved)."""
    version = tuple(session.execute(select(func.count(), func.max(AgentRow.enrolled_at))).one())
    if cache is not None:
        with cache.lock:
            if cache.agents is not None and cache.agents[0] == version:
                return cache.agents[1]
    found = frozenset(session.scalars(select(AgentRow.school_uai).distinct()))
    if cache is not None:
        with cache.lock:
            cache.agents = (version, found)
    return found


def standings(session: Session, profile: Profile, now: datetime, cache: StandingCache | None = None,
              uais: list[str] | None = None) -> dict[str, Standing]:
    """The verdict of every school with agents (or of ``uais``), from the stored verdicts."""
    agents = with_agents(session, cache)
    wanted = list(agents) if uais is None else [u for u in uais if u in agents]
    table = verdict_table(session.connection(), profile, now, None if uais is None else wanted,
                          cache=None if cache is None else cache.verdicts)
    out = {uai: stored for uai in wanted if (stored := table.get(uai)) is not None}
    for uai in silent_schools(session, profile, now):  # the few: the shared table's entries stay
        if uai in out:
            out[uai] = replace(out[uai], silent=True)
    return out


def directory(session: Session, cache: StandingCache, scope: str) -> tuple[list[Any], list[str]]:
    """The schools a scope covers, sorted by commune then name (rows with uai, name, commune,
    departement, academie, school_type, pupils, commune_code, circonscription, circonscription_code,
    classes, latitude, longitude), and the départements among them.

    Loaded again when a school is added (count or newest creation time moved) or
    after :data:`DIRECTORY_TTL`, so an edit of a school's name or commune shows
    within a minute.
    """
    version = tuple(session.execute(select(func.count(), func.max(School.created_at))).one())
    with cache.lock:
        d = cache.directory
    if d is None or d.version != version or time.monotonic() - d.loaded > DIRECTORY_TTL.total_seconds():
        read = session.execute(select(*(getattr(School, f) for f in DirectoryRow._fields))
                               .order_by(School.commune, School.name))
        d = Directory(rows=[DirectoryRow(*r) for r in read], version=version, loaded=time.monotonic())
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
