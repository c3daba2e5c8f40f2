"""``socle-agent install-service`` on each OS: systemd on Linux (agent/service.py), a Task Scheduler
task on Windows (agent/service_windows.py), a launchd daemon on macOS (agent/service_macos.py).
``--print`` shows what would be written and run, and changes nothing.

The OS, the command runner and the administrator check are parameters, so the tests run the Windows
and macOS paths on Linux with recorded commands (a simulation: nothing is registered there)."""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from agent import service, service_macos, service_windows
from agent.exits import EXIT_PASS, UsageError
from agent.launcher import agent_command
from agent.state import AgentState
from config.agent_settings import AgentSettings
from probes.base import SystemRunner, current_os

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


def _run(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """Run a command; its output read in the console's code page on Windows (probes/encoding.py)."""
    res = SystemRunner()(argv, timeout=120)
    return subprocess.CompletedProcess(list(argv), res.returncode, res.stdout, res.stderr)


def is_admin(os_name: str) -> bool:
    """Root on Linux and macOS; a member of Administrators, elevated, on Windows."""
    if os_name == "windows":
        import ctypes

        return bool(ctypes.WinDLL("shell32").IsUserAnAdmin())  # type: ignore[attr-defined]
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _shown(os_name: str, argv: Sequence[str]) -> str:
    return subprocess.list2cmdline(list(argv)) if os_name == "windows" else shlex.join(argv)


def print_plan(os_name: str, args: argparse.Namespace, settings: AgentSettings, state: AgentState,
               config: Path | None, command: Sequence[str]) -> list[str]:
    """The lines ``--print`` shows: each file with its content, then each command in order."""
    start = not args.no_enable
    if os_name == "windows":
        text, where, argvs = service_windows.plan(command, state.root, config, start)
    elif os_name == "darwin":
        text, where, argvs = service_macos.plan(command, state.root, config, service_macos.PLIST_DIR, start)
    else:
        unit = service.render_unit(" ".join(shlex.quote(c) for c in command), args.user, state.root, config,
                                   service.capabilities_for(settings.probes.enabled))
        return [f"# {args.unit_dir / service.UNIT_NAME}", unit.rstrip("\n")]
    return [f"# {where}", text.rstrip("\n"), "", "# then:", *(_shown(os_name, a) for a in argvs)]


def install_service(args: argparse.Namespace, settings: AgentSettings, state: AgentState,
                    os_name: str | None = None, run: Runner = _run,
                    admin: Callable[[str], bool] = is_admin) -> int:
    """Install the agent as this OS's service, or print what that would do (``--print``)."""
    os_name = os_name or current_os()
    config = Path(os.path.abspath(args.config)) if args.config else None
    command = agent_command(os_name)
    if args.print_only:
        for line in print_plan(os_name, args, settings, state, config, command):
            print(line)
        return EXIT_PASS
    if not admin(os_name):
        who = "from an administrator prompt (Run as administrator)" if os_name == "windows" else "as root"
        raise UsageError(f"install-service must run {who}: it registers a system service")
    try:
        if os_name == "windows":
            done = service_windows.install(command, state.root, config, start=not args.no_enable, run=run)
        elif os_name == "darwin":
            done = service_macos.install(command, state.root, config, start=not args.no_enable, run=run)
        elif sys.platform == "linux" and shutil.which("systemctl") is not None:
            done = service.install(settings, state, user=args.user, unit_dir=args.unit_dir, config=config,
                                   enable=not args.no_enable, run=run,
                                   exe=" ".join(shlex.quote(c) for c in command))
        else:
            raise UsageError("install-service knows systemd (Linux), Task Scheduler (Windows) and launchd "
                             "(macOS); this system has none of them")
    except RuntimeError as exc:
        raise UsageError(str(exc)) from None
    for line in done:
        print(line)
    return EXIT_PASS
