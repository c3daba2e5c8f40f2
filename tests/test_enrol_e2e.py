"""Mass enrolment end to end: a real collector process, the real socle-collector and socle-agent programs."""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from collector.db.engine import make_engine
from collector.db.models import EnrollCode
from collector.db.paths import database_url, resolve_settings
from config.collector_settings import CollectorSettings
from config.wire import utcnow
from tests.conftest import BIN, Collector, run_cli

LUCIOLES, BRUZ = "0350122T", "0350127Y"
PATTERN = r"^(?P<room>[A-Z0-9]+)-PC\d+$"


def _school(collector: Collector, uai: str = LUCIOLES, name: str = "Les Lucioles") -> None:
    added = collector.admin("school", "add", uai, "--name", name, "--commune", "Baulon", "--pupils", "143")
    assert added.returncode == 0, added.stderr


def _code(collector: Collector, *args: str) -> str:
    made = collector.admin("enroll-code", *args)
    assert made.returncode == 0, made.stderr
    return made.stdout.strip().splitlines()[-1]


def _enrol(collector: Collector, state: Path, code: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_cli("socle-agent", "enroll", "--collector", collector.url, "--code", code,
                   "--state-dir", str(state), *extra)


def _ids(collector: Collector) -> list[str]:
    listed = collector.admin("enroll-code", "list")
    assert listed.returncode == 0, listed.stderr
    return [line.split()[0] for line in listed.stdout.splitlines()[1:]]


def test_one_code_of_three_uses_enrols_three_agents_and_refuses_the_fourth(collector: Collector,
                                                                           tmp_path: Path) -> None:
    _school(collector)
    made = collector.admin("enroll-code", LUCIOLES, "--uses", "3", "--expires", "7d", "--label", "CM1 room")
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith(f"enrolment code for 3 machines for {LUCIOLES}, valid 7 days")
    code = made.stdout.strip().splitlines()[-1]
    for i in range(3):
        out = _enrol(collector, tmp_path / f"pc{i}", code, "--room", "CM1")
        assert out.returncode == 0, out.stderr
        assert "enrolled to Les Lucioles (0350122T), room CM1" in out.stdout
    fourth = _enrol(collector, tmp_path / "pc3", code, "--room", "CM1")
    assert fourth.returncode == 2
    assert ("this enrolment code was already used 3 times, all of its 3 uses: ask for a new code"
            in fourth.stderr)
    assert not (tmp_path / "pc3" / "credential.json").exists()

    listed = collector.admin("enroll-code", "list", LUCIOLES)
    assert "3/3" in listed.stdout and "used up" in listed.stdout and "CM1 room" in listed.stdout
    (ident,) = _ids(collector)
    shown = collector.admin("enroll-code", "show", ident)
    uses = [line for line in shown.stdout.splitlines() if line.startswith("  ")]
    assert len(uses) == 3, shown.stdout
    agents = {json.loads((tmp_path / f"pc{i}" / "credential.json").read_text())["agent_id"] for i in range(3)}
    assert {line.split("agent ")[1].split()[0] for line in uses} == agents
    assert all("from 127.0.0.1" in line and "room CM1" in line for line in uses)


def test_a_revoked_code_and_an_expired_code_are_refused(collector: Collector, db_url: str,
                                                        tmp_path: Path) -> None:
    _school(collector)
    code = _code(collector, LUCIOLES, "--uses", "30")
    (ident,) = _ids(collector)
    revoked = collector.admin("enroll-code", "revoke", ident)
    assert revoked.returncode == 0 and "it enrols nothing more" in revoked.stdout
    out = _enrol(collector, tmp_path / "a", code, "--room", "CM1")
    assert out.returncode == 2 and "this enrolment code was revoked on" in out.stderr

    late = _code(collector, LUCIOLES, "--uses", "30", "--expires", "1h")
    # An hour cannot pass in a test: the code's expiry is moved into the past in its database.
    settings = resolve_settings(CollectorSettings(), None if db_url.startswith("sqlite") else db_url,
                                collector.data_dir)
    engine = make_engine(database_url(settings))
    with engine.begin() as conn:
        conn.execute(update(EnrollCode).where(EnrollCode.revoked_at.is_(None))
                     .values(expires_at=utcnow() - timedelta(minutes=5)))
    engine.dispose()
    out = _enrol(collector, tmp_path / "b", late, "--room", "CM1")
    assert out.returncode == 2 and "this enrolment code has expired" in out.stderr
    assert collector.admin("enroll-code", "revoke", "nothex").returncode == 2


def test_moving_a_machine_to_another_school_needs_yes_when_no_one_can_answer(collector: Collector,
                                                                               tmp_path: Path) -> None:
    _school(collector)
    _school(collector, BRUZ, "Autre école")
    state = tmp_path / "pc"
    assert _enrol(collector, state, _code(collector, LUCIOLES), "--room", "CM1").returncode == 0
    first = json.loads((state / "credential.json").read_text())["agent_id"]
    code = _code(collector, BRUZ)
    refused = _enrol(collector, state, code, "--room", "CM2")  # no terminal: stdin is a pipe
    assert refused.returncode == 2
    assert "this machine is enrolled to Les Lucioles (0350122T), room CM1" in refused.stderr
    assert "not moved: no one at a terminal to confirm; run again with --yes" in refused.stderr
    assert json.loads((state / "credential.json").read_text())["school_uai"] == LUCIOLES
    assert "0/1" in collector.admin("enroll-code", "list", BRUZ).stdout  # the refusal spent nothing

    moved = _enrol(collector, state, code, "--room", "CM2", "--yes")
    assert moved.returncode == 0, moved.stderr
    assert "enrolled to Autre école (0350127Y), room CM2" in moved.stdout
    tokens = collector.admin("token", "list").stdout
    assert any(first in line and "revoked" in line for line in tokens.splitlines())
    newest = _ids(collector)[0]  # codes are listed newest first: Bruz's
    shown = collector.admin("enroll-code", "show", newest).stdout
    assert f"code {newest} for {BRUZ}: 1 of 1 use(s)" in shown and "(moved from 0350122T)" in shown


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                    reason="needs root and unshare to give the agent a hostname of its own")
def test_the_room_comes_from_the_hostname_pattern(collector: Collector, tmp_path: Path) -> None:
    _school(collector)
    code = _code(collector, LUCIOLES, "--uses", "2", "--room-pattern", PATTERN)
    agent = str(BIN / "socle-agent")

    def enrol_as(hostname: str, state: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', hostname, agent,
                               "enroll", "--collector", collector.url, "--code", code,
                               "--state-dir", str(state)], capture_output=True, text=True, timeout=120,
                              check=False)

    out = enrol_as("CM1-PC03", tmp_path / "a")
    assert out.returncode == 0, out.stderr
    assert "room CM1 (from this machine's hostname)" in out.stdout
    odd = enrol_as("SALLE-PROF", tmp_path / "b")
    assert odd.returncode == 2
    assert "the hostname 'SALLE-PROF' does not match this code's room pattern" in odd.stderr
    assert "enrol with --room ROOM" in odd.stderr


def _at_a_terminal(argv: list[str], answer: str, timeout: float = 120) -> tuple[int, str]:
    """Run ``argv`` on a pseudo-terminal, answer its question with ``answer``; exit code and screen."""
    main_fd, child_fd = os.openpty()
    proc = subprocess.Popen(argv, stdin=child_fd, stdout=child_fd, stderr=child_fd, close_fds=True)
    os.close(child_fd)
    screen, answered = b"", False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main_fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(main_fd, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            screen += chunk
        if not answered and b"[y/N]" in screen:
            os.write(main_fd, answer.encode() + b"\n")
            answered = True
        if proc.poll() is not None and not ready:
            break
    os.close(main_fd)
    return proc.wait(timeout=30), screen.decode("utf-8", errors="replace")


def test_at_a_terminal_the_technician_is_asked_before_a_move(collector: Collector, tmp_path: Path) -> None:
    _school(collector)
    _school(collector, BRUZ, "Autre école")
    state = tmp_path / "pc"
    assert _enrol(collector, state, _code(collector, LUCIOLES), "--room", "CM1").returncode == 0
    code = _code(collector, BRUZ)
    argv = [str(BIN / "socle-agent"), "enroll", "--collector", collector.url, "--code", code,
            "--room", "CM2", "--state-dir", str(state)]
    exit_code, screen = _at_a_terminal(argv, "n")
    assert exit_code == 2 and "Move this machine to the other school?" in screen
    assert "not moved: the machine stays enrolled to its school" in screen
    exit_code, screen = _at_a_terminal(argv, "y")
    assert exit_code == 0, screen
    assert "enrolled to Autre école (0350127Y), room CM2" in screen
    assert json.loads((state / "credential.json").read_text())["school_uai"] == BRUZ
