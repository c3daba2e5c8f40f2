"""The serving collector's nightly purge: once a night at ``retention.nightly_at`` (UTC).

Every serving process runs this loop; the purge runs under the sweep's lock
(collector/judge/sweep.py), so one process at a time purges and none judges meanwhile.
A process that finds the lock taken tries again a minute later, for half an hour; a
purge after another's finds little left (it is idempotent).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import Engine

from collector.judge.sweep import sweep_lock
from collector.retention.purge import PurgeCounts, cutoffs, describe, purge
from config.collector_settings import RetentionSettings
from config.profile import Profile

log = logging.getLogger("socle.collector.retention")
RETRY_S = 60.0
RETRY_FOR = timedelta(minutes=30)


def next_run(now: datetime, at: str) -> datetime:
    """The next time of day ``at`` (HH:MM, UTC) after ``now``."""
    h, m = (int(x) for x in at.split(":"))
    today = datetime.combine(now.astimezone(UTC).date(), time(h, m), tzinfo=UTC)
    return today if today > now else today + timedelta(days=1)


def run_once(engine: Engine, retention: RetentionSettings, profile: Profile,
             now: datetime) -> PurgeCounts | None:
    """One purge under the sweep's lock; None when another process holds it."""
    with sweep_lock(engine) as got:
        if not got:
            return None
        counts = purge(engine, retention, profile, now)
    log.info("nightly purge:\n%s", describe(counts, dry_run=False))
    return counts


def start_purger(engine: Engine, retention: RetentionSettings, profile: Profile,
                 clock: Callable[[], datetime]) -> Callable[[], None]:
    """Purge every night in a background thread; returns the function that stops it. A retention the
    profile cannot live with is refused here, when serving starts (StoreError), not at night."""
    cutoffs(retention, profile, clock())
    stop = threading.Event()
    at = retention.nightly_at

    def loop() -> None:
        while True:
            due = next_run(clock(), at)
            if stop.wait(max(0.0, (due - clock()).total_seconds())):
                return
            while clock() < due + RETRY_FOR:
                try:
                    if run_once(engine, retention, profile, clock()) is not None:
                        break
                except Exception:  # a failed purge must not end the loop: tomorrow's may succeed
                    log.exception("nightly purge failed")
                    break
                if stop.wait(RETRY_S):
                    return

    thread = threading.Thread(target=loop, name="socle-purger", daemon=True)
    thread.start()

    def stopper() -> None:
        stop.set()
        thread.join(timeout=30)

    return stopper
