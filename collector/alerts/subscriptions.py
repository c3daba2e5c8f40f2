"""Subscriptions to alerts: an API token's holder is told of the changes of level in a scope.

A subscription belongs to an API token (a reader, technician or admin: the person or
tool it was made for) and has its own scope, written as a token's scope is
(collector/auth/access.py). A school is told about only when both the subscription's
scope and its token's cover it, while the token is valid: a subscription never tells
what its token could not read. It goes to an e-mail address or to a webhook URL
(signed with a secret made here and shown once), at once (one message per planning
run, every minute under ``serve``) or in a daily digest.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.auth.access import ScopeError, parse_scope
from collector.db.alert_tables import AlertSubscription
from collector.db.models import ApiToken
from collector.errors import StoreError

CHANNELS = ("email", "webhook")
_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


def check_target(channel: str, target: str) -> str:
    """A valid e-mail address or webhook URL (http or https, with a host); raises StoreError saying why."""
    target = target.strip()
    if channel == "email":
        if not _EMAIL.match(target) or len(target) > 254:
            raise StoreError(400, f"{target!r} is not an e-mail address (name@example.fr)")
        return target
    if channel != "webhook":
        raise StoreError(400, f"channel {channel!r}: use one of {', '.join(CHANNELS)}")
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(target) > 500:
        raise StoreError(400, f"{target!r} is not a webhook URL (https://host/path, at most 500 characters)")
    return target


def add_subscription(session: Session, token_id: str, scope: str, channel: str, target: str, now: datetime,
                     digest: bool = False, label: str | None = None) -> tuple[AlertSubscription, str | None]:
    """A new subscription (not committed) and, for a webhook, its signing secret (shown once)."""
    token = session.get(ApiToken, token_id.strip())
    if token is None:
        raise StoreError(404, f"no API token {token_id!r} (socle-collector token list shows them)")
    if token.revoked_at is not None:
        raise StoreError(400, f"API token {token_id} is revoked")
    try:
        parsed = parse_scope(scope)
    except ScopeError as exc:
        raise StoreError(400, str(exc)) from None
    secret = secrets.token_urlsafe(32) if channel == "webhook" else None
    sub = AlertSubscription(token_id=token.token_id, scope=str(parsed), channel=channel,
                            target=check_target(channel, target), secret=secret, digest=digest,
                            label=label, created_at=now)
    session.add(sub)
    session.flush()
    return sub, secret


def list_subscriptions(session: Session) -> list[AlertSubscription]:
    """Every subscription, oldest first."""
    return list(session.scalars(select(AlertSubscription).order_by(AlertSubscription.id)))


def remove_subscription(session: Session, sub_id: int) -> AlertSubscription:
    """Remove a subscription (not committed); its messages and their log go with it."""
    sub = session.get(AlertSubscription, sub_id)
    if sub is None:
        raise StoreError(404, f"no alert subscription {sub_id} (socle-collector alert list shows them)")
    session.delete(sub)
    return sub
