"""A full disk on a classroom machine: ``check`` still delivers what it measured, says what happened in
one line and exits 5 (never 1, the code for "does not meet the profile"); a report neither kept nor
delivered is noted, shown by ``status`` and counted in the next report."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from agent.delivery import open_spool
from agent.exits import EXIT_NOT_KEPT
from agent.filing import keep_report, send_unkept, unkept_notes
from agent.state import AgentState
from config.agent_settings import AgentSettings
from tests.agent.test_delivery import make_report
from tests.conftest import run_cli
from tests.delivery_support import running_collector
from tests.support_disk import fill, small_disk
from tests.support_disk import unavailable as small_disk_unavailable


@pytest.mark.skipif(small_disk_unavailable() is not None, reason=str(small_disk_unavailable()))
def test_check_on_a_full_disk_sends_the_report_directly_and_exits_5(tmp_path: Path) -> None:
    with running_collector(tmp_path / "collector") as collector, small_disk(tmp_path / "disk") as disk:
        state_dir = disk / "state"
        collector.enroll(state_dir)
        with open_spool(AgentState(state_dir), AgentSettings()):
            pass  # the spool exists, as on a machine that has run before
        fill(disk)
        done = run_cli("socle-agent", "check", "--state-dir", str(state_dir),
                       env={"SOCLE_AGENT_CONFIG": os.environ["SOCLE_AGENT_CONFIG"]})
        assert done.returncode == EXIT_NOT_KEPT, done.stderr
        assert "Traceback" not in done.stderr
        assert "could not be kept on this machine" in done.stderr and "sent to the collector directly" in \
            done.stderr
        assert collector.report_count() == 1  # measured, and delivered all the same


def test_a_report_neither_kept_nor_delivered_is_noted_and_counted_next_time(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = AgentState(tmp_path / "state")
    settings = AgentSettings.model_validate({"collector": {"url": "http://127.0.0.1:9", "timeout_s": 0.5}})
    report = make_report(state, 1)
    assert send_unkept(state, settings, report, "database or disk is full", "report") == EXIT_NOT_KEPT
    assert "is lost" in capsys.readouterr().err  # not enrolled here: nothing to send it to
    assert unkept_notes(state) == [str(report.report_id)]
    status = run_cli("socle-agent", "status", "--state-dir", str(state.root))
    assert "lost unkept:     1" in status.stdout, status.stdout
    kept, problem = keep_report(state, settings, make_report(state, 2))
    assert problem is None and kept.spool.unkept_total == 1  # the next report tells the collector
    assert unkept_notes(state) == []
    body = json.loads(kept.model_dump_json())
    assert body["spool"]["unkept_total"] == 1


def test_ctrl_c_during_a_command_is_one_line_and_130(tmp_path: Path) -> None:
    """A survey of 100 readings interrupted after its first: what a technician does when the room is
    wrong (every command goes through the same entry point)."""
    import signal
    import subprocess
    import time

    from tests.conftest import BIN

    proc = subprocess.Popen([str(BIN / "socle-agent"), "survey", "--no-send", "--uai", "0350122T", "--room",
                             "CM1", "--samples", "100", "--interval", "1",
                             "--state-dir", str(tmp_path / "state")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(2.5)  # into the readings
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert err.strip().splitlines()[-1] == "socle-agent: interrupted" and "Traceback" not in err
