"""The command line that starts this agent, as a service manager must be given it: absolute paths,
the frozen executable itself in a frozen build, else the ``socle-agent`` launcher of this Python."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath


def _exists(path: PurePath) -> bool:
    return Path(path).exists()


def agent_command(os_name: str, executable: str | None = None, frozen: bool | None = None,
                  which: Callable[[str], str | None] = shutil.which,
                  exists: Callable[[PurePath], bool] = _exists) -> list[str]:
    """``[launcher]`` or ``[python, -m, agent.cli]``, every path absolute.

    Looked for, in order: the frozen build's own executable; ``socle-agent`` beside this Python
    (a virtual environment, a ``bin`` directory); on Windows ``Scripts\\socle-agent.exe`` under it
    (where a system-wide Python puts its console scripts); ``socle-agent`` on PATH.
    """
    flavour = PureWindowsPath if os_name == "windows" else PurePosixPath
    exe = flavour(executable or sys.executable)  # sys.executable is absolute
    if frozen if frozen is not None else bool(getattr(sys, "frozen", False)):
        return [str(exe)]
    name = "socle-agent.exe" if os_name == "windows" else "socle-agent"
    candidates = [exe.with_name(name)]
    if os_name == "windows":
        candidates.append(exe.parent / "Scripts" / name)
    for candidate in candidates:
        if exists(candidate):
            return [str(candidate)]
    found = which("socle-agent")
    if found:
        return [os.path.abspath(found)]
    return [str(exe), "-m", "agent.cli"]
