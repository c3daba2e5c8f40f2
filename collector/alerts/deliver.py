"""Delivering alerts: claim the messages that are due from the outbox, send them, log every attempt.

Any serving process (after each sweep) or ``socle-collector alert send`` delivers. A
message is claimed for ``claim_s`` seconds by an update that only one process can win;
it is sent outside any transaction; then it is marked sent, or due again after a
backoff (``retry_s``, doubling up to ``retry_max_s``), or failed after ``max_attempts``
(``socle-collector alert retry`` puts it back). A process that stops mid-send leaves
its claim to run out: the message is sent again (at least once; ``X-Socle-Delivery`` and
the e-mail's Message-ID are the same each time).

The two ways out are seams: :func:`send_email` (smtplib) and :func:`post_webhook`
(requests); tests hand real servers to them.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import requests
from sqlalchemy import Engine, Table, or_, select, update

from collector.alerts.messages import DELIVERY, SIGNATURE, body_of, email_of, signature
from collector.db.alert_tables import AlertDelivery, AlertOutbox, AlertSubscription
from config.collector_settings import AlertSettings, SmtpSettings

log = logging.getLogger("socle.collector.alerts")

_O: Table = AlertOutbox.__table__  # type: ignore[assignment]
_D: Table = AlertDelivery.__table__  # type: ignore[assignment]
_SUB: Table = AlertSubscription.__table__  # type: ignore[assignment]
DELIVER_BATCH = 50  # messages one call claims


class DeliveryError(Exception):
    """A message the far end did not take; the text says why (never a secret)."""


def send_email(smtp: SmtpSettings, msg: EmailMessage) -> str:
    """Send one e-mail through the configured server; the server's answer."""
    context = ssl.create_default_context()
    cls = smtplib.SMTP_SSL if smtp.security == "tls" else smtplib.SMTP
    kwargs: dict[str, Any] = {"context": context} if smtp.security == "tls" else {}
    try:
        with cls(smtp.host, smtp.port, timeout=smtp.timeout_s, **kwargs) as server:
            if smtp.security == "starttls":
                server.starttls(context=context)
            if smtp.username:
                server.login(smtp.username, smtp.password or "")
            refused = server.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"SMTP {smtp.host}:{smtp.port}: {type(exc).__name__}: {exc}"[:400]) from None
    if refused:
        raise DeliveryError(f"SMTP refused {', '.join(refused)}")
    return f"accepted by {smtp.host}:{smtp.port}"


def post_webhook(url: str, body: bytes, headers: dict[str, str], timeout: float) -> str:
    """POST one webhook body; the status (a redirect is not followed: the URL is what was subscribed)."""
    try:
        r = requests.post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False)
    except requests.RequestException as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}"[:400]) from None
    if not 200 <= r.status_code < 300:
        raise DeliveryError(f"HTTP {r.status_code} {r.reason or ''}".strip())
    return f"HTTP {r.status_code}"


@dataclass
class Outlets:
    """The ways out, replaceable in tests."""

    email: Callable[[SmtpSettings, EmailMessage], str] = send_email
    webhook: Callable[[str, bytes, dict[str, str], float], str] = post_webhook


def _claim(engine: Engine, now: datetime, claim_s: float) -> list[Any]:
    """Claim the messages that are due; the rows won, with their subscription."""
    due = or_(_O.c.claimed_until.is_(None), _O.c.claimed_until < now)
    with engine.connect() as conn:
        query = select(_O.c.id).where(_O.c.state == "pending", _O.c.next_at <= now, due)
        ids = [i for (i,) in conn.execute(query.order_by(_O.c.next_at, _O.c.id).limit(DELIVER_BATCH))]
        won = []
        for i in ids:  # one update each: a process wins a message or does not
            if conn.execute(update(_O).where(_O.c.id == i, _O.c.state == "pending", due).values(
                    claimed_until=now + timedelta(seconds=claim_s), attempts=_O.c.attempts + 1)).rowcount:
                won.append(i)
        conn.commit()
        if not won:
            return []
        return list(conn.execute(select(_O, _SUB.c.channel, _SUB.c.target, _SUB.c.secret, _SUB.c.scope,
                                        _SUB.c.label, _SUB.c.digest)
                                 .join(_SUB, _SUB.c.id == _O.c.subscription_id).where(_O.c.id.in_(won))))


def _send(row: Any, settings: AlertSettings, outlets: Outlets, now: datetime) -> str:
    """Send one claimed message; what the far end said (raises DeliveryError)."""
    kind = "digest" if row.digest else "changes"
    if row.channel == "email":
        if settings.smtp is None:
            raise DeliveryError("no [alerts.smtp] in the collector's settings: e-mail cannot be sent")
        domain = settings.smtp.sender.rpartition("@")[2]
        return outlets.email(settings.smtp, email_of(row.id, kind, settings.smtp.sender, row.target, domain,
                                                     row.changes))
    body = body_of(row.id, kind, now.isoformat(), {"id": row.subscription_id, "scope": row.scope,
                                                   "label": row.label}, row.changes)
    headers = {"Content-Type": "application/json", DELIVERY: str(row.id),
               SIGNATURE: signature(row.secret or "", int(time.time()), body),
               "User-Agent": "socle-collector"}
    return outlets.webhook(row.target, body, headers, settings.webhook_timeout_s)


def deliver(engine: Engine, settings: AlertSettings, clock: Callable[[], datetime],
            outlets: Outlets | None = None) -> tuple[int, int]:
    """Deliver the messages that are due; (sent, not sent this time)."""
    outlets = outlets or Outlets()
    sent = failed = 0
    for row in _claim(engine, clock(), settings.claim_s):
        try:
            detail, ok = _send(row, settings, outlets, clock()), True
        except DeliveryError as exc:
            detail, ok = str(exc), False
        now = clock()
        if ok:
            values: dict[str, Any] = {"state": "sent", "sent_at": now, "claimed_until": None,
                                      "last_error": None}
            sent += 1
        else:
            wait = min(settings.retry_s * 2 ** (row.attempts - 1), settings.retry_max_s)
            give_up = row.attempts >= settings.max_attempts
            values = {"state": "failed" if give_up else "pending", "claimed_until": None,
                      "next_at": now + timedelta(seconds=wait), "last_error": detail[:500]}
            failed += 1
            log.warning("alert %d to %s, attempt %d: %s%s", row.id, row.channel, row.attempts, detail,
                        " (given up)" if give_up else f" (again in {wait:.0f} s)")
        with engine.begin() as conn:
            conn.execute(update(_O).where(_O.c.id == row.id).values(**values))
            conn.execute(_D.insert().values(outbox_id=row.id, at=now, attempt=row.attempts, ok=ok,
                                            detail=detail[:500]))
    return sent, failed


def retry(engine: Engine, now: datetime, message_id: int | None = None) -> int:
    """Put failed messages (or the one given, whatever its state but sent) back to be delivered now."""
    query = update(_O).where(_O.c.state != "sent") if message_id is not None else \
        update(_O).where(_O.c.state == "failed")
    if message_id is not None:
        query = query.where(_O.c.id == message_id)
    with engine.begin() as conn:
        return int(conn.execute(query.values(state="pending", attempts=0, next_at=now,
                                             claimed_until=None)).rowcount)
