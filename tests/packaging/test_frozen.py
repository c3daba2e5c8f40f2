"""The agent frozen with PyInstaller (packaging/pyinstaller/socle-agent.spec) on Linux: ``check
--no-send``, ``run`` with two scheduled jobs (each a child of the frozen scheduler) and ``status``.

The build runs in a fresh venv holding only the agent's wheel and PyInstaller, as on a build
machine; it takes a few minutes, once per run. Its size is printed (docs/benchmarks.md).
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.delivery_support import running_collector
from tests.packaging.support import ROOT, make_venv, sh

pytestmark = pytest.mark.slow
SPEC = ROOT / "packaging" / "pyinstaller" / "socle-agent.spec"


def _tree_mb(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6, 1)


@pytest.fixture(scope="module")
def frozen_agent(tmp_path_factory: pytest.TempPathFactory, wheels: dict[str, Path]) -> Path:
    """The frozen agent's executable (onedir build)."""
    work = tmp_path_factory.mktemp("frozen")
    venv = make_venv(work / "venv")
    sh(venv.python, "-m", "pip", "install", "-q", "--disable-pip-version-check", wheels["agent"],
       "pyinstaller>=6", cwd=work)
    started = time.monotonic()
    sh(venv.bin / "pyinstaller", "--noconfirm", "--log-level", "WARN", "--distpath", work / "dist",
       "--workpath", work / "build", SPEC, cwd=work, timeout=1800)
    folder = work / "dist" / "socle-agent"
    print(f"\nfrozen agent: {_tree_mb(folder)} MB onedir, built in {time.monotonic() - started:.0f} s")
    return folder / "socle-agent"


def _config(path: Path, text: str = "") -> Path:
    path.write_text('[probes]\nenabled = ["device"]\n' + text, encoding="utf-8")
    return path


def test_frozen_check_no_send(frozen_agent: Path, tmp_path: Path) -> None:
    done = sh(frozen_agent, "--state-dir", tmp_path / "state", "--config", _config(tmp_path / "a.toml"),
              "check", "--no-send", "--uai", "0350122T", "--room", "CM1", "--json", cwd=tmp_path, ok=(0, 1))
    report = json.loads(done.stdout)
    assert [(r["probe"], r["status"]) for r in report["results"]] == [("device", "ok")]
    assert report["results"][0]["measurement"]["cpu_cores_logical"] == psutil.cpu_count()


# A missed night (caught up at once) and a light check every minute, at any hour of any day.
TWO_JOBS = """[schedule]
timezone = "UTC"
catch_up_delay_max_s = 0
[schedule.light]
enabled = true
probes = ["device"]
every_min = 1
days = "mon-sun"
start = "00:00"
end = "23:59"
"""


@pytest.fixture
def running_frozen(frozen_agent: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path, Path]]:
    with running_collector(tmp_path / "collector") as collector:
        state = tmp_path / "agent"
        collector.enroll(state)
        config = _config(tmp_path / "agent.toml", TWO_JOBS)
        argv = [str(frozen_agent), "--state-dir", str(state), "--config", str(config), "run"]
        with (tmp_path / "run.stderr").open("w") as err:
            proc = subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE, stderr=err, text=True)
        try:
            yield proc, state, config
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            proc.wait(20)
            assert collector.report_count() >= 2


def test_frozen_run_two_jobs_then_status(running_frozen: tuple[subprocess.Popen[str], Path, Path],
                                         frozen_agent: Path) -> None:
    proc, state, config = running_frozen
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.startswith("socle-agent run: nightly check at "), (state.parent / "run.stderr").read_text()
    # exec'd into the scheduler: the frozen executable itself, with the hidden command
    assert psutil.Process(proc.pid).cmdline()[:2] == [str(frozen_agent), "scheduler-process"]
    runs_file, deadline = state / "runs.json", time.monotonic() + 150
    runs: dict[str, dict[str, str]] = {}
    while time.monotonic() < deadline and not {"nightly", "light"} <= set(runs):
        time.sleep(0.5)
        runs = json.loads(runs_file.read_text()) if runs_file.exists() else {}
    assert runs.get("nightly", {}).get("outcome") == "done", (runs, (state.parent / "run.stderr").read_text())
    assert runs.get("light", {}).get("outcome") == "done", (runs, (state.parent / "run.stderr").read_text())
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 0
    status = sh(frozen_agent, "--state-dir", state, "--config", config, "status", cwd=state).stdout
    assert "enrolment:" in status and "room CM1" in status
    assert any(line.startswith("last nightly:") and line.endswith(" done") for line in status.splitlines())
    assert any(line.startswith("last light:") and line.endswith(" done") for line in status.splitlines())
