"""The alerts' tables (collector/alerts/): subscriptions, the outbox of messages, the delivery log.

Apart from collector/db/models.py for its length; on the same ``Base``, so the migrations
and their check see them (collector/db/migrations imports this module).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from collector.db.models import Base, JsonText


class AlertSubscription(Base):
    """Who is told of changes of level in a scope, how, and whether at once or in a daily digest
    (collector/alerts/subscriptions.py)."""

    __tablename__ = "alert_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_id: Mapped[str] = mapped_column(ForeignKey("api_tokens.token_id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(String(100))  # collector/auth/access.py's syntax
    channel: Mapped[str] = mapped_column(String(8))  # email, webhook
    target: Mapped[str] = mapped_column(String(500))  # the address, or the URL
    secret: Mapped[str | None] = mapped_column(String(128), default=None)  # a webhook's HMAC key
    digest: Mapped[bool] = mapped_column(Boolean, default=False)
    label: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AlertOutbox(Base):
    """One message to deliver: the changes one planning run (or one day, for a digest) found in a
    subscription's scope. Durable: a delivery a stopped process had claimed is claimed again once its
    claim runs out (collector/alerts/deliver.py)."""

    __tablename__ = "alert_outbox"
    __table_args__ = (Index("ix_alert_outbox_due", "state", "next_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("alert_subscriptions.id", ondelete="CASCADE"),
                                                 index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    changes: Mapped[Any] = mapped_column(JsonText)  # the list of changes the message tells
    state: Mapped[str] = mapped_column(String(8))  # pending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # not before (a digest: its hour)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    last_error: Mapped[str | None] = mapped_column(String(500), default=None)


class AlertDelivery(Base):
    """One attempt at delivering an outbox message, and what came of it."""

    __tablename__ = "alert_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("alert_outbox.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempt: Mapped[int] = mapped_column(Integer)
    ok: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str] = mapped_column(String(500))  # the HTTP status or the server's answer, or the error
