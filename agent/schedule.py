"""When ``socle-agent run`` checks: pure timing functions, guarded jobs, and the APScheduler wiring.

The nightly full check fires inside a window (01:00–05:00 by default) at a
per-agent offset derived from the agent's instance ID, which is kept on disk: the
offset is stable across restarts and spread evenly over a fleet, so a district's
collector never sees every agent in the same minute. After a missed night
(machine off, agent stopped) one catch-up run happens soon after start, after a
random delay so that a whole district switched on at 08:00 does not fire at once.
Light checks (reachability, Wi-Fi link) run every few minutes in school hours.
Each job holds a lock (in the process and on disk): a job never runs twice at
once, and a light check never runs during a full check (they would disturb each
other's figures). Tests call the job functions with a fake clock.
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import FileLock, Timeout

if TYPE_CHECKING:  # attributes only: the scheduler process does not load pydantic
    from config.agent_settings import LightCheckSettings, ScheduleSettings

log = logging.getLogger("socle.agent.schedule")

DAY = timedelta(days=1)
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_hhmm(text: str) -> time:
    """``"01:30"`` → 01:30."""
    h, m = text.split(":")
    return time(int(h), int(m))


def offset_fraction(instance_id: uuid.UUID) -> float:
    """Where in the window this agent fires, in [0, 1): a digest of its instance ID (stable, uniform)."""
    digest = hashlib.sha256(b"socle-nightly|" + instance_id.bytes).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def window_seconds(start: time, end: time) -> int:
    """The window's length; an end at or before the start wraps past midnight."""
    s = start.hour * 3600 + start.minute * 60
    e = end.hour * 3600 + end.minute * 60
    return (e - s) % 86400 or 86400


def nightly_slot(start: time, end: time, fraction: float) -> time:
    """The time of day of this agent's nightly check (whole seconds)."""
    at = (start.hour * 3600 + start.minute * 60 + int(fraction * window_seconds(start, end))) % 86400
    return time(at // 3600, at // 60 % 60, at % 60)


def _on(day: date, slot: time, tz: tzinfo) -> datetime:
    return datetime.combine(day, slot, tzinfo=tz)


def previous_nightly(now: datetime, slot: time, tz: tzinfo) -> datetime:
    """The last time the nightly check was due, at or before ``now``."""
    local = now.astimezone(tz)
    today = _on(local.date(), slot, tz)
    return today if today <= local else _on(local.date() - DAY, slot, tz)


def next_nightly(now: datetime, slot: time, tz: tzinfo) -> datetime:
    """The next time the nightly check is due, after ``now``."""
    local = now.astimezone(tz)
    today = _on(local.date(), slot, tz)
    return today if today > local else _on(local.date() + DAY, slot, tz)


def needs_catch_up(now: datetime, last_nightly: datetime | None, slot: time, tz: tzinfo,
                   early: timedelta = timedelta(hours=1)) -> bool:
    """True when the last due nightly check did not run (a run up to ``early`` before it counts)."""
    if last_nightly is None:
        return True
    return last_nightly < previous_nightly(now, slot, tz) - early


def _day_set(spec: str) -> set[int]:
    days: set[int] = set()
    for part in spec.lower().replace(" ", "").split(","):
        lo, _, hi = part.partition("-")
        a, b = _DAYS.index(lo), _DAYS.index(hi or lo)
        days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return days


def in_school_hours(now: datetime, light: LightCheckSettings, tz: tzinfo) -> bool:
    """Whether a light check is due now: one of the days, between start and end."""
    local = now.astimezone(tz)
    if local.weekday() not in _day_set(light.days):
        return False
    return parse_hhmm(light.start) <= local.time() < parse_hhmm(light.end)


def validate_days(spec: str) -> None:
    """Raise ValueError unless ``spec`` is like ``mon-fri`` or ``mon,tue,thu``."""
    try:
        _day_set(spec)
    except ValueError:
        raise ValueError(f"days {spec!r}: expected e.g. 'mon-fri' or 'mon,tue,thu,fri'") from None


@dataclass
class JobOutcome:
    """How one call of a job ended."""

    job: str
    outcome: str  # what the job returned, or "skipped" (already running), "error"
    started_at: datetime
    ended_at: datetime
    error: str | None = None


class Jobs:
    """The job functions APScheduler calls; each is guarded so that it never overlaps itself.

    ``check(kind, probes)`` runs a check (``probes`` None: all enabled) and returns
    an outcome word; ``deliver()`` offers the spool; ``due()`` says whether the
    backoff allows an automatic delivery now; ``record(job, at, outcome, error)``
    keeps the outcome for ``status``.
    """

    def __init__(self, settings: ScheduleSettings, lock_dir: Path, *,
                 check: Callable[[str, list[str] | None], str], deliver: Callable[[], Any],
                 due: Callable[[], bool], clock: Callable[[], datetime], tz: tzinfo,
                 record: Callable[[str, datetime, str, str | None], None] | None = None) -> None:
        self.settings = settings
        self.lock_dir = lock_dir
        self._check = check
        self._deliver = deliver
        self._due = due
        self.clock = clock
        self.tz = tz
        self._record = record
        self._locks = {"check": threading.Lock(), "deliver": threading.Lock()}
        self.history: list[JobOutcome] = []

    def _guarded(self, job: str, lock_name: str, fn: Callable[[], str]) -> JobOutcome:
        started = self.clock()
        local = self._locks[lock_name]
        if not local.acquire(blocking=False):
            return self._done(job, "skipped", started, "the previous run is still going")
        try:
            self.lock_dir.mkdir(parents=True, exist_ok=True)
            disk = FileLock(str(self.lock_dir / f"{lock_name}.lock"), timeout=0)
            try:
                disk.acquire()
            except Timeout:
                return self._done(job, "skipped", started, "another process is running it")
            try:
                return self._done(job, fn(), started)
            except Exception as exc:
                log.exception("job %s failed", job)
                return self._done(job, "error", started, f"{type(exc).__name__}: {exc}"[:300])
            finally:
                disk.release()
        finally:
            local.release()

    def _done(self, job: str, outcome: str, started: datetime, error: str | None = None) -> JobOutcome:
        result = JobOutcome(job, outcome, started, self.clock(), error)
        self.history.append(result)
        if outcome == "skipped":
            log.info("job %s skipped: %s", job, error)
        elif self._record is not None:
            self._record(job, started, outcome, error)
        return result

    def nightly(self) -> JobOutcome:
        """The full check (every enabled probe)."""
        return self._guarded("nightly", "check", lambda: self._check("nightly", None))

    def light(self) -> JobOutcome:
        """A light check, only in school hours."""
        if not in_school_hours(self.clock(), self.settings.light, self.tz):
            return JobOutcome("light", "outside school hours", self.clock(), self.clock())
        return self._guarded("light", "check", lambda: self._check("light", list(self.settings.light.probes)))

    def deliver(self) -> JobOutcome:
        """Offer the spool to the collector when the backoff allows."""
        if not self._due():
            return JobOutcome("deliver", "waiting (backoff)", self.clock(), self.clock())

        def run() -> str:
            result = self._deliver()
            return "sent" if getattr(result, "error", None) is None else "failed"

        return self._guarded("deliver", "deliver", run)


def build_scheduler(jobs: Jobs, instance_id: uuid.UUID, *, last_nightly: datetime | None,
                    rng: random.Random | None = None, blocking: bool = True) -> Any:
    """An APScheduler scheduler with the nightly, light, deliver and (if due) catch-up jobs; not started."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.date import DateTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    s = jobs.settings
    tz = jobs.tz
    sched = (BlockingScheduler if blocking else BackgroundScheduler)(timezone=tz)
    once = {"max_instances": 1, "coalesce": True}
    slot = nightly_slot(parse_hhmm(s.window_start), parse_hhmm(s.window_end), offset_fraction(instance_id))
    if s.nightly_enabled:
        sched.add_job(jobs.nightly, CronTrigger(hour=slot.hour, minute=slot.minute, second=slot.second,
                                                timezone=tz), id="nightly", misfire_grace_time=3600, **once)
        now = jobs.clock()
        if s.catch_up and needs_catch_up(now, last_nightly, slot, tz):
            delay = (rng or random.Random()).uniform(0, s.catch_up_delay_max_s)
            sched.add_job(jobs.nightly, DateTrigger(now + timedelta(seconds=delay), timezone=tz),
                          id="catch-up", misfire_grace_time=None, **once)
            log.info("last night's check was missed: catching up in %.0f s", delay)
    if s.light.enabled and s.light.probes:
        # Aligned on local midnight (so :00, :15, :30, :45), whatever the time the agent started.
        midnight = datetime.combine(jobs.clock().astimezone(tz).date() - DAY, time(0), tzinfo=tz)
        every = IntervalTrigger(minutes=s.light.every_min, start_date=midnight, timezone=tz)
        sched.add_job(jobs.light, every, id="light", misfire_grace_time=60, **once)
    sched.add_job(jobs.deliver, IntervalTrigger(seconds=s.deliver_every_s, timezone=tz), id="deliver",
                  misfire_grace_time=None, **once)
    return sched
