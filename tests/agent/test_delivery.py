"""Delivery end to end: spool, sender and the real collector; every report arrives exactly once."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from agent.delivery import deliver, keep, open_spool
from agent.state import AgentState
from config.agent_settings import AgentSettings, SpoolSettings
from config.wire import DeviceIdentity, ProbeResult, ProbeStatus, Report
from tests.conftest import ROOT
from tests.delivery_support import UAI, Collector, Proxy, closed_port_url, running_collector

ROOT = ROOT


def make_report(state: AgentState, n: int = 0) -> Report:
    """A small valid report with one result."""
    return Report(report_id=uuid.uuid4(), agent_version="test",
                  device=DeviceIdentity(instance_id=state.instance_id(), hostname="pc-cm1"),
                  school_uai=UAI, room="CM1", taken_at=datetime(2026, 11, 2, 3, n % 60, tzinfo=UTC),
                  results=[ProbeResult(probe="device", status=ProbeStatus.unavailable,
                                       reason=f"test report {n}", duration_s=0.01)])


def settings_for(url: str | None = None, **spool: float) -> AgentSettings:
    data: dict[str, object] = {"spool": {"batch_size": 3, "backoff_base_s": 1.0, **spool},
                               "collector": {"timeout_s": 0.5}}
    if url:
        data["collector"] = {"url": url, "timeout_s": 0.5}
    return AgentSettings.model_validate(data)


class Sleeps:
    """A sleep that records and returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, s: float) -> None:
        self.calls.append(s)


@pytest.fixture
def collector(tmp_path: Path, db_url: str) -> Iterator[Collector]:
    """The real collector, on SQLite and on PostgreSQL."""
    with running_collector(tmp_path / "collector", db_url) as c:
        yield c


def spool_reports(state: AgentState, settings: AgentSettings, count: int) -> list[str]:
    with open_spool(state, settings) as spool:
        return [str(keep(spool, make_report(state, i)).report_id) for i in range(count)]


def test_collector_down_then_agent_restarted_then_every_report_arrives_once(tmp_path: Path,
                                                                           db_url: str) -> None:
    state = AgentState(tmp_path / "agent")
    data = tmp_path / "collector"
    data.mkdir()
    # Enrol against a collector, then take it away while reports pile up.
    with running_collector(data, db_url) as c:
        c.enroll(state.root)
    down = settings_for(closed_port_url())
    ids = spool_reports(state, down, 7)
    sleeps = Sleeps()
    with open_spool(state, down) as spool:
        r = deliver(state, down, spool, attempts=2, sleep=sleeps, rng=random.Random(1))
    assert (r.sent, r.remaining, r.status) == (0, 7, None)
    assert "cannot reach the collector" in (r.error or "")
    assert len(sleeps.calls) == 1 and 0 <= sleeps.calls[0] <= 2.0  # full jitter, 2nd failure: [0, 2 s]
    # Agent restarted: a new process opens the same spool.
    with (running_collector(data, db_url) as c,
          open_spool(AgentState(state.root), settings_for(c.url)) as spool):
        assert spool.stats().depth == 7
        assert spool.stats().failures == 2  # the backoff survived the restart
        r = deliver(AgentState(state.root), settings_for(c.url), spool, sleep=Sleeps())
        assert (r.stored, r.duplicate, r.remaining, r.error) == (7, 0, 0, None)
        assert sorted(c.report_ids()) == sorted(ids)
        assert spool.stats().failures == 0 and spool.stats().sent_total == 7


def test_500_503_429_retry_after_and_a_hang_still_deliver_exactly_once(tmp_path: Path,
                                                                       collector: Collector) -> None:
    proxy = Proxy(collector.url, script=["500", "503", "429:7", "hang:3", "forward"]).start()
    try:
        state = AgentState(tmp_path / "agent")
        collector.enroll(state.root)
        settings = settings_for(proxy.url)
        ids = spool_reports(state, settings, 8)
        sleeps = Sleeps()
        with open_spool(state, settings) as spool:
            r = deliver(state, settings, spool, attempts=10, sleep=sleeps, rng=random.Random(2))
            assert r.error is None and r.remaining == 0
            # The hung request reached the collector, so one batch came back as duplicates.
            assert (r.stored, r.duplicate) == (5, 3)
            assert spool.stats().failures == 0
        assert proxy.seen[:5] == ["500", "503", "429:7", "hang:3", "forward"]
        assert sleeps.calls[2] == 7.0  # Retry-After honoured instead of the jitter
        assert all(0 <= s <= 2 ** i for i, s in enumerate(sleeps.calls) if i != 2)
        assert collector.report_count() == 8 and sorted(collector.report_ids()) == sorted(ids)
    finally:
        proxy.stop()


def test_retry_after_beyond_the_wait_limit_is_kept_for_later(tmp_path: Path, collector: Collector) -> None:
    proxy = Proxy(collector.url, script=["429:3600"]).start()
    try:
        state = AgentState(tmp_path / "agent")
        collector.enroll(state.root)
        settings = settings_for(proxy.url)
        spool_reports(state, settings, 2)
        now = 1_000_000.0
        with open_spool(state, settings) as spool:
            r = deliver(state, settings, spool, max_wait_s=60, clock=lambda: now, sleep=Sleeps())
            assert (r.sent, r.retry_in_s, r.status) == (0, 3600.0, 429)
            assert spool.stats().not_before == now + 3600.0
    finally:
        proxy.stop()


def _flush_subprocess(state_dir: Path, config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "agent.cli", "--state-dir", str(state_dir),
                             "--config", str(config), "flush", "--attempts", "1"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.parametrize("kill_at", ["before_forward:0", "after_forward:0", "after_forward:2",
                                     "before_forward:3"])
def test_sigkill_during_a_flush_loses_nothing_and_duplicates_nothing(tmp_path: Path, collector: Collector,
                                                                     kill_at: str) -> None:
    state = AgentState(tmp_path / "agent")
    collector.enroll(state.root)
    where, _, nth = kill_at.partition(":")
    holder: dict[str, subprocess.Popen[bytes]] = {}

    def kill(n: int) -> bool:
        if n != int(nth):
            return False
        os.kill(holder["p"].pid, signal.SIGKILL)
        holder["p"].wait(10)
        return True

    proxy = Proxy(collector.url, **{where: kill}).start()  # type: ignore[arg-type]
    try:
        config = tmp_path / "agent.toml"
        config.write_text(f'[collector]\nurl = "{proxy.url}"\n[spool]\nbatch_size = 2\n', encoding="utf-8")
        settings = settings_for(proxy.url, batch_size=2)
        ids = spool_reports(state, settings, 9)
        holder["p"] = _flush_subprocess(state.root, config)
        holder["p"].wait(30)
        assert holder["p"].returncode == -signal.SIGKILL
        stored_before = collector.report_count()
        with open_spool(state, settings) as spool:
            assert spool.stats().depth == 9 - min(stored_before, 9) + (2 if where == "after_forward" else 0)
        # Restarted: the next flush sends the rest; what the killed one had sent comes back as duplicates.
        proxy.before_forward = proxy.after_forward = None
        done = subprocess.run([sys.executable, "-m", "agent.cli", "--state-dir", str(state.root),
                               "--config", str(config), "flush"], cwd=ROOT, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, done.stderr
        assert "0 waiting" in done.stdout
        assert collector.report_count() == 9 and sorted(collector.report_ids()) == sorted(ids)
    finally:
        proxy.stop()


def test_a_batch_with_one_invalid_report_stores_the_others_and_says_which_and_why(
        tmp_path: Path, collector: Collector) -> None:
    state = AgentState(tmp_path / "agent")
    cred = collector.enroll(state.root)
    good = [json.loads(make_report(state, i).model_dump_json()) for i in range(3)]
    bad = json.loads(make_report(state, 9).model_dump_json())
    bad["results"][0]["duration_s"] = -1
    resp = requests.post(collector.url + "/api/v1/reports/batch", timeout=5,
                         headers={"Authorization": f"Bearer {cred.token}"},
                         json={"reports": [good[0], bad, good[1], good[2], good[0]]})
    assert resp.status_code == 200
    results = resp.json()["results"]
    assert [r["status"] for r in results] == ["stored", "refused", "stored", "stored", "duplicate"]
    assert results[1]["report_id"] == bad["report_id"]
    assert results[1]["error"].startswith("results.0.duration_s: Input should be greater than or equal to 0")
    assert collector.report_count() == 3 and bad["report_id"] not in collector.report_ids()


def test_the_agent_sets_a_refused_report_aside_and_sends_the_rest(tmp_path: Path,
                                                                  collector: Collector) -> None:
    state = AgentState(tmp_path / "agent")
    collector.enroll(state.root)
    settings = settings_for(collector.url)
    ids = spool_reports(state, settings, 4)
    with open_spool(state, settings) as spool:
        broken = make_report(state, 5).model_dump(mode="json")
        broken["room"] = ""  # a room must be named: the collector refuses it
        spool.put(broken["report_id"], json.dumps(broken))
        r = deliver(state, settings, spool, sleep=Sleeps())
        assert (r.stored, r.remaining, r.error) == (4, 0, None)
        assert [rid for rid, _ in r.refused] == [broken["report_id"]]
        assert spool.refused()[0][1].startswith("room: String should have at least 1 character")
        assert spool.stats().refused_total == 1
    assert sorted(collector.report_ids()) == sorted(ids)


def test_the_dropped_count_reaches_the_collector(tmp_path: Path, collector: Collector) -> None:
    state = AgentState(tmp_path / "agent")
    collector.enroll(state.root)
    settings = settings_for(collector.url, max_mb=0.001)  # room for two or three reports
    spool_reports(state, settings, 6)
    with open_spool(state, settings) as spool:
        dropped = spool.stats().dropped_total
        assert dropped >= 2
        last = keep(spool, make_report(state, 7))
        deliver(state, settings, spool, sleep=Sleeps())
    assert last.spool.dropped_total == dropped
    with collector.sessions() as s:
        from collector.db.models import ReportRow

        row = s.get(ReportRow, str(last.report_id))
        assert row is not None and row.payload["spool"]["dropped_total"] == dropped


def test_spool_settings_defaults_are_sane() -> None:
    s = SpoolSettings()
    assert (s.batch_size, s.attempts_per_flush, s.max_mb, s.max_age_days) == (50, 3, 50.0, 30.0)
