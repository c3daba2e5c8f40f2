"""``socle-agent`` on a console or a redirected stdout whose encoding lacks characters it prints
(cp1252 and cp850, what a French Windows gives a redirected ``check``): no crash, the report sent.

Simulated here with ``PYTHONIOENCODING``, which sets the same encoding Python picks on Windows for a
redirected stdout (the ANSI code page). The room's name carries U+2192, which neither code page has.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from agent.exits import EXIT_FAIL, EXIT_PASS
from tests.conftest import BIN
from tests.delivery_support import running_collector

ROOM = "CE2 → salle 3"


def _check(state_dir: Path, encoding: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONIOENCODING": encoding}
    return subprocess.run([str(BIN / "socle-agent"), "check", *args, "--state-dir", str(state_dir)],
                          capture_output=True, env=env, timeout=120, check=False)


@pytest.mark.parametrize("encoding", ["cp1252", "cp850"])
def test_check_json_redirected_is_utf8_and_sent(tmp_path: Path, encoding: str) -> None:
    with running_collector(tmp_path / "collector") as collector:
        collector.enroll(tmp_path / "state", room=ROOM)
        done = _check(tmp_path / "state", encoding, "--json")
        assert done.returncode in (EXIT_PASS, EXIT_FAIL), done.stderr
        assert b"Traceback" not in done.stderr
        report = json.loads(done.stdout.decode("utf-8"))  # UTF-8 whatever the console's code page
        assert report["room"] == ROOM
        assert collector.report_ids() == [report["report_id"]]


@pytest.mark.parametrize("encoding", ["cp1252", "cp850"])
def test_check_table_degrades_characters_and_is_sent(tmp_path: Path, encoding: str) -> None:
    with running_collector(tmp_path / "collector") as collector:
        collector.enroll(tmp_path / "state", room=ROOM)
        done = _check(tmp_path / "state", encoding)
        assert done.returncode in (EXIT_PASS, EXIT_FAIL), done.stderr
        assert b"Traceback" not in done.stderr
        assert b"\r" not in done.stderr  # no live progress line on a pipe (agent/progress.py)
        text = done.stdout.decode(encoding)
        assert "CE2 -> salle 3" in text  # the arrow shown as its nearest ASCII
        assert collector.report_count() == 1
