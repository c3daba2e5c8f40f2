"""How the agent starts itself again, frozen or not (agent/launch.py)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from agent import launch, service
from agent.daemon import Plan, child_argv

ROOT = Path(__file__).resolve().parents[2]


def test_agent_argv_from_a_python_install_goes_through_dash_m() -> None:
    assert launch.agent_argv("job", "nightly", executable="/usr/bin/python3", is_frozen=False) == [
        "/usr/bin/python3", "-m", "agent", "job", "nightly"]


def test_agent_argv_frozen_runs_the_executable_itself() -> None:
    exe = r"C:\Program Files\Socle\socle-agent.exe"
    assert launch.agent_argv("scheduler-process", "--plan", "{}", executable=exe, is_frozen=True) == [
        exe, "scheduler-process", "--plan", "{}"]


def test_frozen_follows_sys_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    assert launch.frozen() is False
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert launch.frozen() is True
    assert launch.agent_argv("status") == [sys.executable, "status"]


def _plan(tmp_path: Path, config: Path | None) -> Plan:
    return Plan(state_dir=tmp_path, config=config, instance_id=uuid.UUID(int=1),
                spool_path=tmp_path / "spool.sqlite3", check_budget_s=60, schedule={})


def test_scheduler_children_frozen_and_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = _plan(tmp_path, tmp_path / "agent.toml")
    assert child_argv(plan, "job", "light") == [
        sys.executable, "-m", "agent", "--state-dir", str(tmp_path), "--config", str(tmp_path / "agent.toml"),
        "job", "light"]
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert child_argv(_plan(tmp_path, None), "flush", "--max-wait", "60") == [
        sys.executable, "--state-dir", str(tmp_path), "flush", "--max-wait", "60"]


def test_service_runs_the_frozen_executable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "/opt/socle-agent/socle-agent")
    assert service.agent_executable() == "/opt/socle-agent/socle-agent"


def test_scheduler_command_does_not_import_the_cli() -> None:
    """The scheduler process stays small: no CLI, probes, HTTP library or pydantic in it."""
    code = ("import sys\nfrom agent.entry import main\ntry:\n    main(['scheduler-process', '--help'])\n"
            "except SystemExit:\n    pass\n"
            "print(sorted(m for m in ('agent.cli', 'probes', 'requests', 'pydantic') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "usage: socle-agent run" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_python_dash_m_agent_is_the_cli() -> None:
    done = subprocess.run([sys.executable, "-m", "agent", "--version"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and "0.1.0" in done.stdout + done.stderr
