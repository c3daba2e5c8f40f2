"""``socle-agent run`` for real: it becomes the small scheduler, catches up a missed night in a child
process, records the run, and stops on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from agent.state import AgentState
from tests.conftest import ROOT
from tests.delivery_support import running_collector

ROOT = ROOT


def test_run_catches_up_a_missed_night_and_stops_on_sigterm(tmp_path: Path) -> None:
    with running_collector(tmp_path / "collector") as collector:
        state = AgentState(tmp_path / "agent")
        collector.enroll(state.root)
        config = tmp_path / "agent.toml"
        config.write_text('[probes]\nenabled = ["device"]\n[schedule]\ncatch_up_delay_max_s = 0\n'
                          '[schedule.light]\nenabled = false\n', encoding="utf-8")
        proc = subprocess.Popen([sys.executable, "-m", "agent.cli", "--state-dir", str(state.root),
                                 "--config", str(config), "run"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().startswith("socle-agent run: nightly check at ")
            # exec'd into the small scheduler: same process, no probe or HTTP modules in it
            assert psutil.Process(proc.pid).cmdline()[1:4] == ["-m", "agent", "scheduler-process"]
            deadline = time.monotonic() + 30
            while collector.report_count() == 0 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert collector.report_count() == 1
            runs_file = state.root / "runs.json"
            while not runs_file.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert json.loads(runs_file.read_text())["nightly"]["outcome"] == "done"
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(10) == 0
