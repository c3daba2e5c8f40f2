"""The spool alone: order, bounds, counters, and durability under SIGKILL."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from agent.sender import full_jitter
from agent.spool import Spool
from tests.conftest import ROOT

ROOT = ROOT


class Clock:
    """A settable clock."""

    def __init__(self, t: float = 1_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_oldest_first_batches_bounded_by_count_and_size(tmp_path: Path) -> None:
    with Spool(tmp_path / "s.db") as spool:
        for i in range(5):
            spool.put(f"r{i}", "x" * 100)
        spool.put("r1", "again")  # the same id twice is kept once
        assert [i.report_id for i in spool.batch(3, 10_000)] == ["r0", "r1", "r2"]
        assert [i.report_id for i in spool.batch(10, 250)] == ["r0", "r1"]
        assert [i.report_id for i in spool.batch(10, 10)] == ["r0"]  # never an empty batch
        assert spool.ack(["r0", "r2", "unknown"]) == 2
        st = spool.stats()
        assert (st.depth, st.size_bytes, st.sent_total) == (3, 300, 2)
        assert [i.report_id for i in spool.batch(10, 10_000)] == ["r1", "r3", "r4"]


def test_size_bound_drops_the_oldest_and_counts_them(tmp_path: Path) -> None:
    with Spool(tmp_path / "s.db", max_bytes=350) as spool:
        dropped = [spool.put(f"r{i}", "x" * 100) for i in range(6)]
        assert dropped == [0, 0, 0, 1, 1, 1]
        st = spool.stats()
        assert (st.depth, st.dropped_total) == (3, 3)
        assert [i.report_id for i in spool.batch(10, 10_000)] == ["r3", "r4", "r5"]
        assert spool.put("big", "y" * 1000) == 3  # the newest stays even alone above the bound
        assert [i.report_id for i in spool.batch(10, 10_000)] == ["big"]
        assert spool.stats().health().dropped_total == 6


def test_age_bound_drops_what_is_too_old(tmp_path: Path) -> None:
    clock = Clock()
    with Spool(tmp_path / "s.db", max_age_s=3600, clock=clock) as spool:
        spool.put("old", "a")
        clock.t += 1800
        spool.put("mid", "b")
        clock.t += 1801
        assert spool.prune() == 1
        assert [i.report_id for i in spool.batch(10, 10_000)] == ["mid"]
        assert spool.stats().dropped_total == 1


def test_refused_reports_are_set_aside_and_counted(tmp_path: Path) -> None:
    with Spool(tmp_path / "s.db") as spool:
        spool.put("a", "{}")
        spool.put("b", "{}")
        spool.refuse("a", "results.0.duration_s: Input should be greater than or equal to 0")
        assert spool.refused() == [("a", "results.0.duration_s: Input should be greater than or equal to 0")]
        st = spool.stats()
        assert (st.depth, st.refused_total) == (1, 1)


def test_backoff_state_is_kept_across_reopen(tmp_path: Path) -> None:
    with Spool(tmp_path / "s.db") as spool:
        assert spool.record_failure("collector answered 503", 1234.0) == 1
        assert spool.record_failure("collector answered 503", 2345.0) == 2
    with Spool(tmp_path / "s.db") as spool:
        st = spool.stats()
        assert (st.failures, st.not_before, st.last_error) == (2, 2345.0, "collector answered 503")
        spool.record_success()
        assert (spool.stats().failures, spool.stats().not_before) == (0, None)


def test_full_jitter_stays_under_the_exponential_ceiling_and_the_cap() -> None:
    rng = random.Random(7)
    for failures, ceiling in [(1, 5), (2, 10), (3, 20), (8, 640), (20, 3600), (500, 3600)]:
        draws = [full_jitter(failures, 5.0, 3600.0, rng) for _ in range(200)]
        assert min(draws) >= 0 and max(draws) <= ceiling
        assert max(draws) > ceiling * 0.8  # spread over the whole range, not a fixed delay


def test_the_spool_file_is_owner_only_and_in_wal_mode(tmp_path: Path) -> None:
    with Spool(tmp_path / "s.db") as spool:
        spool.put("a", "{}")
        assert (os.stat(tmp_path / "s.db").st_mode & 0o777) == 0o600
    conn = sqlite3.connect(tmp_path / "s.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


_WRITER = """
import sys
from pathlib import Path
from agent.spool import Spool
spool = Spool(Path(sys.argv[1]))
i = 0
while True:
    spool.put(f"r{i}", "x" * 2000)
    print(i, flush=True)
    i += 1
"""


def test_every_put_that_returned_survives_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    acknowledged = -1
    for line in proc.stdout:
        acknowledged = int(line)
        if acknowledged >= 40:
            break
    os.kill(proc.pid, signal.SIGKILL)  # in the middle of the next put
    proc.wait(10)
    with Spool(path) as spool:
        ids = [i.report_id for i in spool.batch(500, 10**9)]
    # Every acknowledged put is there, in order, and nothing torn: the interrupted one is all or nothing.
    assert len(ids) > acknowledged
    assert ids == [f"r{i}" for i in range(len(ids))]
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
