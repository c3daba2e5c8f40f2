"""``install-service`` on Windows: a Task Scheduler task that runs ``socle-agent run`` as SYSTEM from
boot, restarts it when it fails and never stops it for running long; and the state directory,
which sits in ``C:\\ProgramData`` where every user may read by default, locked to SYSTEM and the
Administrators group (``icacls``), since it holds the agent's credential.

Every command is an argument list run through an injected runner; the task is registered from its
XML (``schtasks /Create /XML``), written in UTF-16 as schtasks expects it.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path, PurePath
from xml.sax.saxutils import escape

TASK_NAME = r"\Socle\Socle agent"
XML_NAME = "socle-agent-task.xml"
# Well-known SIDs, the same on every Windows whatever its language ("Administrateurs" in French).
SYSTEM_SID = "S-1-5-18"
ADMINISTRATORS_SID = "S-1-5-32-544"

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


def render_task(command: Sequence[str], state_dir: PurePath, config: PurePath | None) -> str:
    """The task's XML (Task Scheduler schema 1.2; pure): at boot, as SYSTEM, restart on failure every
    minute (up to 999 times), no time limit, one instance, on battery too."""
    args = [*command[1:], "--state-dir", str(state_dir), *(["--config", str(config)] if config else []),
            "run"]
    arguments = subprocess.list2cmdline(args)
    return f"""<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>Socle agent: nightly network checks of this classroom machine</Description>
    <URI>{escape(TASK_NAME)}</URI>
  </RegistrationInfo>
  <Triggers>
    <BootTrigger>
      <Enabled>true</Enabled>
      <Delay>PT1M</Delay>
    </BootTrigger>
  </Triggers>
  <Principals>
    <Principal id="Agent">
      <UserId>{SYSTEM_SID}</UserId>
      <RunLevel>HighestAvailable</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <AllowHardTerminate>true</AllowHardTerminate>
    <StartWhenAvailable>true</StartWhenAvailable>
    <RunOnlyIfNetworkAvailable>false</RunOnlyIfNetworkAvailable>
    <IdleSettings>
      <StopOnIdleEnd>false</StopOnIdleEnd>
      <RestartOnIdle>false</RestartOnIdle>
    </IdleSettings>
    <AllowStartOnDemand>true</AllowStartOnDemand>
    <Enabled>true</Enabled>
    <Hidden>false</Hidden>
    <RunOnlyIfIdle>false</RunOnlyIfIdle>
    <WakeToRun>false</WakeToRun>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <Priority>7</Priority>
    <RestartOnFailure>
      <Interval>PT1M</Interval>
      <Count>999</Count>
    </RestartOnFailure>
  </Settings>
  <Actions Context="Agent">
    <Exec>
      <Command>{escape(command[0])}</Command>
      <Arguments>{escape(arguments)}</Arguments>
    </Exec>
  </Actions>
</Task>
"""


def lock_argv(state_dir: PurePath) -> list[str]:
    """``icacls``: the directory's inherited rights dropped (Users could read), full control for
    SYSTEM and Administrators only, inherited by every file in it."""
    return ["icacls", str(state_dir), "/inheritance:r",
            "/grant:r", f"*{SYSTEM_SID}:(OI)(CI)F", "/grant:r", f"*{ADMINISTRATORS_SID}:(OI)(CI)F"]


def create_argv(xml_path: PurePath) -> list[str]:
    """``schtasks``: register (or replace) the task from its XML."""
    return ["schtasks", "/Create", "/TN", TASK_NAME, "/XML", str(xml_path), "/F"]


def run_argv() -> list[str]:
    """``schtasks``: start the task now, without waiting for the next boot."""
    return ["schtasks", "/Run", "/TN", TASK_NAME]


def plan(command: Sequence[str], state_dir: PurePath, config: PurePath | None,
         start: bool) -> tuple[str, PurePath, list[list[str]]]:
    """What install does (pure): the XML, where it is written, the commands in order."""
    xml_path = state_dir / XML_NAME
    argvs = [lock_argv(state_dir), create_argv(xml_path)] + ([run_argv()] if start else [])
    return render_task(command, state_dir, config), xml_path, argvs


def install(command: Sequence[str], state_dir: Path, config: Path | None, *, start: bool,
            run: Runner) -> list[str]:
    """Lock the state directory, write the XML, register the task, start it; returns what was done."""
    xml, xml_path, argvs = plan(command, state_dir, config, start)
    state_dir.mkdir(parents=True, exist_ok=True)
    done = []
    lock, *tasks = argvs
    _check(run(lock), lock)
    done.append(f"locked {state_dir} to SYSTEM and Administrators")
    (state_dir / XML_NAME).write_text(xml, encoding="utf-16")  # with a byte-order mark, as schtasks reads
    done.append(f"wrote {xml_path}")
    for argv in tasks:
        _check(run(argv), argv)
    done.append(f"registered the task {TASK_NAME}" + (" and started it" if start else ""))
    return done


def _check(res: subprocess.CompletedProcess[str], argv: Sequence[str]) -> None:
    if res.returncode != 0:
        said = (res.stderr or res.stdout or "").strip()
        raise RuntimeError(f"{subprocess.list2cmdline(list(argv))} failed: {said}")
