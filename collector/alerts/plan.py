"""Planning alerts: the changes of level not told yet become one outbox message per subscription.

The judges write each change of a school's level to the history with ``alerted`` false
(collector/judge/history.py; a new profile version's doing is not a change of the
school, and is not told). :func:`plan` takes those entries, finds for each
subscription the ones in its scope (and its token's), and writes, in one transaction
with marking them told:

* for a subscription "at once", one message listing every change of this run: one
  e-mail or one webhook call per subscriber per run, however many schools moved;
* for a daily digest, the changes join the digest waiting for its hour (``digest_hour``,
  UTC), or start one.

Each change is in one message per subscription, once. A run that finds no change writes
nothing. Two processes planning at once cannot both tell a change: marking the entries
told only counts when it marks them all, or the run is undone and left to the other.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Table, select, update

from collector.auth.access import Action, ScopeError, allowed, covers, parse_scope
from collector.db.alert_tables import AlertOutbox, AlertSubscription
from collector.db.engine import as_utc
from collector.db.models import ApiToken, School
from collector.db.verdict_tables import VerdictHistoryRow

log = logging.getLogger("socle.collector.alerts")

_H: Table = VerdictHistoryRow.__table__  # type: ignore[assignment]
_S: Table = School.__table__  # type: ignore[assignment]
_O: Table = AlertOutbox.__table__  # type: ignore[assignment]
_SUB: Table = AlertSubscription.__table__  # type: ignore[assignment]
_T: Table = ApiToken.__table__  # type: ignore[assignment]
PLAN_BATCH = 5000  # changes of level taken by one run


def next_digest(now: datetime, hour: int) -> datetime:
    """The next moment a daily digest leaves: today at ``hour`` UTC, or tomorrow when that is past."""
    at = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    return at if at > now else at + timedelta(days=1)


def _changes(conn: Connection) -> tuple[list[int], list[dict[str, Any]], dict[str, Any]]:
    """The entries not told yet: their ids, the changes as messages tell them, and their schools."""
    rows = conn.execute(select(_H.c.id, _H.c.school_uai, _H.c.at, _H.c.was, _H.c.became, _H.c.cause)
                        .where(_H.c.alerted.is_(False)).order_by(_H.c.id).limit(PLAN_BATCH)).all()
    if not rows:
        return [], [], {}
    uais = sorted({r.school_uai for r in rows})
    schools = {s.uai: s for s in conn.execute(select(_S).where(_S.c.uai.in_(uais)))}
    since = min(r.at for r in rows)
    moved: dict[tuple[str, Any], list[dict[str, Any]]] = {}
    for m in conn.execute(select(_H.c.school_uai, _H.c.at, _H.c.subject, _H.c.was, _H.c.became)
                          .where(_H.c.school_uai.in_(uais), _H.c.subject != "level", _H.c.at >= since)
                          .order_by(_H.c.id)):
        moved.setdefault((m.school_uai, m.at), []).append({"rule_id": m.subject, "was": m.was,
                                                             "became": m.became})
    changes = []
    for r in rows:
        s = schools[r.school_uai]
        changes.append({"uai": s.uai, "name": s.name, "commune": s.commune, "departement": s.departement,
                        "at": as_utc(r.at).isoformat(), "was": r.was, "became": r.became, "cause": r.cause,
                        "rules": moved.get((r.school_uai, r.at), [])})
    return [r.id for r in rows], changes, schools


def _readers(conn: Connection, now: datetime) -> list[Any]:
    """The subscriptions with their token's role and scope, while the token is valid."""
    rows = conn.execute(select(_SUB, _T.c.role, _T.c.scope.label("token_scope"), _T.c.expires_at)
                        .join(_T, _T.c.token_id == _SUB.c.token_id).where(_T.c.revoked_at.is_(None))
                        .order_by(_SUB.c.id)).all()
    return [r for r in rows if r.expires_at is None or as_utc(r.expires_at) > now]


def _told(sub: Any, changes: list[dict[str, Any]], schools: dict[str, Any]) -> list[dict[str, Any]]:
    """The changes a subscription is told: in its scope and its token's."""
    try:
        scope = parse_scope(sub.scope)
    except ScopeError:
        return []  # a damaged scope tells nothing, as it grants nothing
    return [c for c in changes if covers(scope, schools[c["uai"]])
            and allowed(sub.role, sub.token_scope, Action.read, schools[c["uai"]])]


def plan(engine: Engine, now: datetime, digest_hour: int = 7) -> int:
    """Turn the changes of level not told yet into outbox messages; how many messages were written."""
    with engine.connect() as conn:
        ids, changes, schools = _changes(conn)
        if not ids:
            conn.rollback()
            return 0
        written = 0
        for sub in _readers(conn, now):
            told = _told(sub, changes, schools)
            if not told:
                continue
            if sub.digest:
                waiting = conn.execute(select(_O.c.id, _O.c.changes).where(
                    _O.c.subscription_id == sub.id, _O.c.state == "pending", _O.c.attempts == 0,
                    _O.c.claimed_until.is_(None)).order_by(_O.c.id.desc()).limit(1)).first()
                if waiting is not None:
                    conn.execute(update(_O).where(_O.c.id == waiting.id)
                                 .values(changes=[*waiting.changes, *told]))
                    continue
            conn.execute(_O.insert().values(subscription_id=sub.id, created_at=now, changes=told,
                                            state="pending", attempts=0,
                                            next_at=next_digest(now, digest_hour) if sub.digest else now))
            written += 1
        marked = conn.execute(update(_H).where(_H.c.id.in_(ids), _H.c.alerted.is_(False))
                              .values(alerted=True)).rowcount
        if marked != len(ids):  # another process planned some of them meanwhile: leave them all to it
            conn.rollback()
            return 0
        conn.commit()
    if written:
        log.info("alerts: %d change(s) of level, %d message(s) to deliver", len(ids), written)
    return written
