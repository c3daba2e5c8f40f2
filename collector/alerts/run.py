"""The alerts' turn after each sweep: plan the changes not told yet, then deliver what is due."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine

from collector.alerts.deliver import Outlets, deliver
from collector.alerts.plan import plan
from config.collector_settings import AlertSettings


def alert_turn(engine: Engine, settings: AlertSettings, clock: Callable[[], datetime],
               outlets: Outlets | None = None) -> tuple[int, int, int]:
    """Plan, then deliver; (messages planned, sent, not sent this time)."""
    planned = plan(engine, clock(), settings.digest_hour)
    sent, failed = deliver(engine, settings, clock, outlets)
    return planned, sent, failed
