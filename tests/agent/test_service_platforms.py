"""``install-service`` on Windows and macOS, simulated on Linux: the OS, the command runner and the
administrator check are injected, so what is written is read back and every command is checked as
the argument list it would be run as. Nothing is registered here: whether schtasks and launchctl
take these files is not tested on this machine (docs/agent-operations.md says so)."""

from __future__ import annotations

import argparse
import plistlib
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest

from agent import service_macos, service_windows
from agent.exits import UsageError
from agent.launcher import agent_command
from agent.service_cmd import install_service
from agent.state import AgentState
from config.agent_settings import AgentSettings

NS = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}
EXE = [r"C:\Program Files\Python311\Scripts\socle-agent.exe"]
STATE = PureWindowsPath(r"C:\ProgramData\Socle\agent")


class Recorder:
    def __init__(self, fail: str | None = None) -> None:
        self.calls: list[list[str]] = []
        self.fail = fail

    def __call__(self, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        self.calls.append(list(argv))
        code = 1 if self.fail and self.fail in argv else 0
        return subprocess.CompletedProcess(list(argv), code, "", "Accès refusé." if code else "")


def _args(**kw: object) -> argparse.Namespace:
    base = dict(print_only=False, no_enable=False, config=None, user="socle-agent",
                unit_dir=Path("/etc/systemd/system"))
    return argparse.Namespace(**{**base, **kw})


def test_the_task_starts_at_boot_as_system_and_restarts_on_failure() -> None:
    xml = service_windows.render_task(EXE, STATE, PureWindowsPath(r"C:\ProgramData\Socle\agent.toml"))
    root = ET.fromstring(xml.replace('encoding="UTF-16"', ""))
    assert root.find("t:Triggers/t:BootTrigger/t:Enabled", NS).text == "true"  # type: ignore[union-attr]
    assert root.find("t:Principals/t:Principal/t:UserId", NS).text == "S-1-5-18"  # type: ignore[union-attr]
    restart = root.find("t:Settings/t:RestartOnFailure", NS)
    assert restart is not None and restart.find("t:Interval", NS).text == "PT1M"  # type: ignore[union-attr]
    assert root.find("t:Settings/t:ExecutionTimeLimit", NS).text == "PT0S"  # type: ignore[union-attr]
    assert root.find("t:Settings/t:DisallowStartIfOnBatteries", NS).text == "false"  # type: ignore[union-attr]
    exe = root.find("t:Actions/t:Exec/t:Command", NS).text  # type: ignore[union-attr]
    assert exe == EXE[0]  # the path as is: Task Scheduler takes it unquoted, spaces and all
    assert root.find("t:Actions/t:Exec/t:Arguments", NS).text == (  # type: ignore[union-attr]
        r"--state-dir C:\ProgramData\Socle\agent --config C:\ProgramData\Socle\agent.toml run")


def test_arguments_with_spaces_are_quoted_as_windows_reads_them() -> None:
    xml = service_windows.render_task([r"C:\Python311\python.exe", "-m", "agent.cli"],
                                      PureWindowsPath(r"C:\Données Socle\agent"), None)
    root = ET.fromstring(xml.replace('encoding="UTF-16"', ""))
    assert root.find("t:Actions/t:Exec/t:Arguments", NS).text == (  # type: ignore[union-attr]
        '-m agent.cli --state-dir "C:\\Données Socle\\agent" run')


def test_icacls_and_schtasks_as_argument_lists() -> None:
    _, xml_path, argvs = service_windows.plan(EXE, STATE, None, start=True)
    assert xml_path == STATE / "socle-agent-task.xml"
    assert argvs == [
        ["icacls", r"C:\ProgramData\Socle\agent", "/inheritance:r",
         "/grant:r", "*S-1-5-18:(OI)(CI)F", "/grant:r", "*S-1-5-32-544:(OI)(CI)F"],
        ["schtasks", "/Create", "/TN", r"\Socle\Socle agent", "/XML",
         r"C:\ProgramData\Socle\agent\socle-agent-task.xml", "/F"],
        ["schtasks", "/Run", "/TN", r"\Socle\Socle agent"],
    ]


def test_windows_install_locks_first_then_writes_utf16_xml_and_registers(tmp_path: Path) -> None:
    run = Recorder()
    state = AgentState(tmp_path / "agent")
    code = install_service(_args(), AgentSettings(), state, os_name="windows", run=run,
                           admin=lambda _os: True)
    assert code == 0
    assert [c[0] for c in run.calls] == ["icacls", "schtasks", "schtasks"]
    assert run.calls[0][1] == str(state.root) and run.calls[1][5] == str(state.root / "socle-agent-task.xml")
    raw = (state.root / "socle-agent-task.xml").read_bytes()
    assert raw[:2] == b"\xff\xfe"  # UTF-16 with its byte-order mark, as schtasks /XML reads it
    assert "<UserId>S-1-5-18</UserId>" in raw.decode("utf-16")


def test_a_failing_command_is_a_usage_error_that_says_which(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"^icacls .* failed: Accès refusé\."):
        install_service(_args(), AgentSettings(), AgentState(tmp_path / "a"), os_name="windows",
                        run=Recorder(fail="icacls"), admin=lambda _os: True)
    with pytest.raises(UsageError, match="administrator prompt"):
        install_service(_args(), AgentSettings(), AgentState(tmp_path / "a"), os_name="windows",
                        run=Recorder(), admin=lambda _os: False)


def test_print_shows_the_task_and_the_commands_and_runs_nothing(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    run = Recorder()
    assert install_service(_args(print_only=True), AgentSettings(), AgentState(tmp_path / "agent"),
                           os_name="windows", run=run, admin=lambda _os: False) == 0
    out = capsys.readouterr().out
    assert run.calls == [] and not (tmp_path / "agent").exists()
    assert "<BootTrigger>" in out and "icacls " in out and "schtasks /Create /TN " in out


def test_the_plist_has_the_real_path_and_restarts_after_a_failure() -> None:
    text = service_macos.render_plist(["/Users/tech/venv/bin/socle-agent"], Path("/Library/Application "
                                      "Support/Socle/agent"), None)
    doc = plistlib.loads(text.encode())
    assert doc["Label"] == "org.socle.agent"
    assert doc["ProgramArguments"] == ["/Users/tech/venv/bin/socle-agent", "--state-dir",
                                       "/Library/Application Support/Socle/agent", "run"]
    assert doc["RunAtLoad"] is True and doc["KeepAlive"] == {"SuccessfulExit": False}


def test_macos_install_writes_the_plist_and_bootstraps_it(tmp_path: Path) -> None:
    run = Recorder(fail="bootout")  # not loaded before: launchctl bootout fails, and that is fine
    done = service_macos.install(["/usr/local/bin/socle-agent"], tmp_path / "state", None,
                                 plist_dir=tmp_path / "LaunchDaemons", start=True, run=run)
    plist = tmp_path / "LaunchDaemons" / "org.socle.agent.plist"
    assert plistlib.loads(plist.read_bytes())["ProgramArguments"][0] == "/usr/local/bin/socle-agent"
    assert run.calls == [["chown", "root:wheel", str(plist)], ["chmod", "644", str(plist)],
                         ["launchctl", "bootout", "system/org.socle.agent"],
                         ["launchctl", "bootstrap", "system", str(plist)],
                         ["launchctl", "enable", "system/org.socle.agent"]]
    assert (tmp_path / "state").stat().st_mode & 0o777 == 0o700
    assert done[-1].startswith("loaded org.socle.agent")


def test_the_command_is_the_real_launcher() -> None:
    there = {PurePosixPath("/opt/socle/bin/socle-agent")}
    assert agent_command("darwin", "/opt/socle/bin/python3", frozen=False, exists=lambda p: p in there,
                         which=lambda _n: None) == ["/opt/socle/bin/socle-agent"]
    win = {PureWindowsPath(r"C:\Python311\Scripts\socle-agent.exe")}  # a system-wide Python
    assert agent_command("windows", r"C:\Python311\python.exe", frozen=False, exists=lambda p: p in win,
                         which=lambda _n: None) == [r"C:\Python311\Scripts\socle-agent.exe"]
    assert agent_command("windows", r"D:\dist\socle-agent.exe", frozen=True) == [r"D:\dist\socle-agent.exe"]
    assert agent_command("linux", "/usr/bin/python3", frozen=False, exists=lambda _p: False,
                         which=lambda _n: None) == ["/usr/bin/python3", "-m", "agent.cli"]
