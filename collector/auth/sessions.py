"""Dashboard sessions: a sign-in kept on the server, and the form token that goes with it.

Signing in with an API token makes a session: a random id (256 bits) that the
browser keeps in an HttpOnly cookie and the collector keeps only as its hash,
with the token it stands for. A session ends at sign-out, after its lifetime,
after it has been idle too long, or as soon as its API token is revoked or
expires. Forms that change something carry the session's *form token* (a digest
of the session id: a page of another site cannot read it), checked on the
server before anything is done.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from collector.auth.credentials import is_live
from collector.auth.tokens import hash_secret
from collector.db.engine import as_utc
from collector.db.models import ApiToken, DashboardSession

TOUCH_EVERY = timedelta(minutes=1)  # how stale last_used_at may get before a request writes it again


@dataclass(frozen=True)
class SessionRules:
    """How long a session lives, and how long it may sit unused."""

    lifetime: timedelta = timedelta(hours=12)
    idle: timedelta = timedelta(hours=1)


def form_token(session_id: str) -> str:
    """The token a session's forms carry."""
    return hashlib.sha256(f"form:{session_id}".encode()).hexdigest()[:32]


def same_form_token(session_id: str, sent: str | None) -> bool:
    """Whether a form's token is the session's (compared in constant time)."""
    return sent is not None and hmac.compare_digest(form_token(session_id).encode(), sent.encode())


def start(session: Session, token: ApiToken, now: datetime, rules: SessionRules) -> str:
    """A new session for ``token``; its id, for the cookie (the database keeps only its hash)."""
    raw = secrets.token_urlsafe(32)
    session.add(DashboardSession(id_hash=hash_secret(raw), token_id=token.token_id, created_at=now,
                                 last_used_at=now, expires_at=now + rules.lifetime))
    return raw


def resume(session: Session, raw: str, now: datetime, rules: SessionRules) -> ApiToken | None:
    """The API token a live session stands for (its last use recorded), or None when it has ended."""
    row = session.get(DashboardSession, hash_secret(raw))
    if row is None or row.ended_at is not None or as_utc(row.expires_at) <= now:
        return None
    if as_utc(row.last_used_at) + rules.idle <= now:
        row.ended_at = now
        return None
    token = session.get(ApiToken, row.token_id)
    if token is None or not is_live(token, now):
        row.ended_at = now
        return None
    if now - as_utc(row.last_used_at) >= TOUCH_EVERY:
        row.last_used_at = now
    return token


def end(session: Session, raw: str, now: datetime) -> None:
    """End a session (sign-out)."""
    row = session.get(DashboardSession, hash_secret(raw))
    if row is not None and row.ended_at is None:
        row.ended_at = now

