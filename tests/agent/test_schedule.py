"""The schedule, driven by a fake clock: spread and stable offsets, catch-up, no overlapping runs."""

from __future__ import annotations

import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent.schedule import (
    Jobs,
    build_scheduler,
    in_school_hours,
    needs_catch_up,
    next_nightly,
    nightly_slot,
    offset_fraction,
    previous_nightly,
    window_seconds,
)
from agent.state import AgentState
from config.agent_settings import LightCheckSettings, ScheduleSettings

PARIS = ZoneInfo("Europe/Paris")


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def test_offsets_are_spread_over_the_window_across_a_fleet() -> None:
    start, end = time(1, 0), time(5, 0)
    slots = [nightly_slot(start, end, offset_fraction(uuid.uuid4())) for _ in range(4000)]
    assert all(time(1, 0) <= s < time(5, 0) for s in slots)
    per_minute = Counter((s.hour, s.minute) for s in slots)
    # 4000 agents over 240 minutes: about 17 a minute; never a crowd in one minute, no empty quarter hour.
    assert len(per_minute) >= 235
    assert max(per_minute.values()) <= 40
    per_quarter = Counter((s.hour, s.minute // 15) for s in slots)
    assert len(per_quarter) == 16 and min(per_quarter.values()) >= 180


def test_the_offset_is_stable_across_restarts(tmp_path: Path) -> None:
    first = AgentState(tmp_path).instance_id()
    restarted = AgentState(tmp_path).instance_id()  # a new process reads the same state directory
    assert restarted == first
    a = nightly_slot(time(1, 0), time(5, 0), offset_fraction(first))
    b = nightly_slot(time(1, 0), time(5, 0), offset_fraction(restarted))
    assert a == b


def test_a_window_may_wrap_past_midnight() -> None:
    assert window_seconds(time(22, 0), time(2, 0)) == 4 * 3600
    assert nightly_slot(time(22, 0), time(2, 0), 0.75) == time(1, 0)
    assert nightly_slot(time(22, 0), time(2, 0), 0.0) == time(22, 0)


def test_next_and_previous_nightly_in_local_time() -> None:
    slot = time(3, 12, 5)
    now = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)  # 09:00 in Paris
    assert previous_nightly(now, slot, PARIS) == datetime(2026, 11, 2, 3, 12, 5, tzinfo=PARIS)
    assert next_nightly(now, slot, PARIS) == datetime(2026, 11, 3, 3, 12, 5, tzinfo=PARIS)
    early = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 02:00 in Paris, before the slot
    assert next_nightly(early, slot, PARIS) == datetime(2026, 11, 2, 3, 12, 5, tzinfo=PARIS)


@pytest.mark.parametrize(("last", "expected"), [
    (None, True),  # never ran: run once
    (datetime(2026, 11, 2, 3, 12, tzinfo=PARIS), False),  # ran last night
    (datetime(2026, 11, 2, 2, 30, tzinfo=PARIS), False),  # a catch-up shortly before the slot counts
    (datetime(2026, 11, 1, 3, 12, tzinfo=PARIS), True),  # machine off last night
    (datetime(2026, 10, 20, 3, 12, tzinfo=PARIS), True),  # off for two weeks
])
def test_catch_up_after_a_missed_night(last: datetime | None, expected: bool) -> None:
    now = datetime(2026, 11, 2, 8, 30, tzinfo=PARIS)
    assert needs_catch_up(now, last, time(3, 12), PARIS) is expected


def test_light_checks_only_in_school_hours() -> None:
    light = LightCheckSettings(days="mon-fri", start="08:00", end="17:00")
    monday = datetime(2026, 11, 2, 9, 0, tzinfo=PARIS)
    assert in_school_hours(monday, light, PARIS)
    assert not in_school_hours(monday.replace(hour=7, minute=59), light, PARIS)
    assert not in_school_hours(monday.replace(hour=17), light, PARIS)
    assert not in_school_hours(monday + timedelta(days=5), light, PARIS)  # Saturday
    assert in_school_hours(monday + timedelta(days=2), LightCheckSettings(days="mon,tue,wed"), PARIS)


def _jobs(tmp_path: Path, clock: FakeClock, check: Callable[[str, list[str] | None], str],
          records: list[tuple[str, str]] | None = None) -> Jobs:
    kept = records if records is not None else []
    return Jobs(ScheduleSettings(), tmp_path / "locks", check=check, deliver=lambda: None, due=lambda: True,
                clock=clock, tz=PARIS, record=lambda job, at, outcome, err: kept.append((job, outcome)))


def test_a_job_never_overlaps_itself_nor_a_full_check(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 2, 9, 0, tzinfo=PARIS))
    running, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def check(kind: str, probes: list[str] | None) -> str:
        calls.append(kind)
        running.set()
        release.wait(5)
        return "done"

    records: list[tuple[str, str]] = []
    jobs = _jobs(tmp_path, clock, check, records)
    first = threading.Thread(target=jobs.nightly)
    first.start()
    assert running.wait(5)
    clock.at += timedelta(minutes=15)
    assert jobs.nightly().outcome == "skipped"  # a second nightly while the first runs
    assert jobs.light().outcome == "skipped"  # a light check would disturb the full one
    release.set()
    first.join(5)
    assert jobs.light().outcome == "done"
    assert calls == ["nightly", "light"]
    assert records == [("nightly", "done"), ("light", "done")]


def test_a_second_process_holding_the_lock_makes_the_job_skip(tmp_path: Path) -> None:
    (tmp_path / "locks").mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom filelock import FileLock\n"
         "l = FileLock(sys.argv[1]); l.acquire(); print('held', flush=True); time.sleep(30)",
         str(tmp_path / "locks" / "check.lock")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        jobs = _jobs(tmp_path, FakeClock(datetime(2026, 11, 2, 2, 0, tzinfo=PARIS)), lambda k, p: "done")
        out = jobs.nightly()
        assert (out.outcome, out.error) == ("skipped", "another process is running it")
    finally:
        holder.kill()
        holder.wait(5)
    assert jobs.nightly().outcome == "done"


def test_a_failing_check_is_recorded_and_the_next_one_runs(tmp_path: Path) -> None:
    def boom(kind: str, probes: list[str] | None) -> str:
        raise RuntimeError("probe runner broke")

    records: list[tuple[str, str]] = []
    clock = FakeClock(datetime(2026, 11, 2, 2, 0, tzinfo=PARIS))
    jobs = _jobs(tmp_path, clock, boom, records)
    out = jobs.nightly()
    assert (out.outcome, out.error) == ("error", "RuntimeError: probe runner broke")
    assert _jobs(tmp_path, clock, lambda k, p: "done").nightly().outcome == "done"


def test_two_days_of_fake_time_through_the_real_triggers(tmp_path: Path) -> None:
    """Fire the APScheduler triggers in fake time; each run takes time; none overlaps another."""
    clock = FakeClock(datetime(2026, 11, 2, 7, 0, tzinfo=PARIS))  # a Monday morning
    runs: list[tuple[str, datetime, datetime]] = []
    durations = {"nightly": timedelta(minutes=20), "light": timedelta(seconds=40)}

    def check(kind: str, probes: list[str] | None) -> str:
        start = clock()
        clock.at += durations[kind]
        runs.append((kind, start, clock()))
        return "done"

    jobs = _jobs(tmp_path, clock, check)
    iid = uuid.UUID("6a2f41a8-6a55-4a4e-9c5b-2a4b1c0d9e11")
    sched = build_scheduler(jobs, iid, last_nightly=datetime(2026, 11, 2, 2, 0, tzinfo=PARIS),
                            blocking=False)
    triggers = {job.id: job.trigger for job in sched.get_jobs()}
    assert set(triggers) == {"nightly", "light", "deliver"}  # ran last night: no catch-up
    assert all(job.max_instances == 1 and job.coalesce for job in sched.get_jobs())
    next_fire = {name: triggers[name].get_next_fire_time(None, clock()) for name in ("nightly", "light")}
    end = clock() + timedelta(days=2)
    while True:
        name, at = min(next_fire.items(), key=lambda kv: kv[1])
        if at > end:
            break
        clock.at = max(clock(), at)  # a fire time passed during a run is served late (coalesced)
        getattr(jobs, name)()
        next_fire[name] = triggers[name].get_next_fire_time(at, clock() + timedelta(microseconds=1))
    slot = nightly_slot(time(1, 0), time(5, 0), offset_fraction(iid))
    nightly = [r for r in runs if r[0] == "nightly"]
    assert [r[1].astimezone(PARIS).time() for r in nightly] == [slot, slot]
    light = [r for r in runs if r[0] == "light"]
    assert len(light) == 2 * 9 * 4  # Monday and Tuesday, 08:00 to 17:00, every 15 min
    ordered = sorted(runs, key=lambda r: r[1])
    assert all(a[2] <= b[1] for a, b in pairwise(ordered))


def test_a_missed_night_adds_one_catch_up_run_soon(tmp_path: Path) -> None:
    import random

    clock = FakeClock(datetime(2026, 11, 2, 8, 30, tzinfo=PARIS))
    jobs = _jobs(tmp_path, clock, lambda k, p: "done")
    sched = build_scheduler(jobs, uuid.uuid4(), last_nightly=datetime(2026, 10, 30, 3, 0, tzinfo=PARIS),
                            rng=random.Random(3), blocking=False)
    catch_up = next(j for j in sched.get_jobs() if j.id == "catch-up")
    fire = catch_up.trigger.get_next_fire_time(None, clock())
    assert clock() <= fire <= clock() + timedelta(seconds=600)
