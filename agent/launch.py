"""How the agent starts itself again: the same way frozen (PyInstaller) and from a Python install.

``socle-agent run`` becomes the small scheduler process and that process starts each check
as a child ``socle-agent``. From a Python install those are ``python -m agent ...``; in a
frozen build there is no ``-m`` (the executable is the agent, and ``python -m agent.daemon``
would reach argparse as ``invalid choice: 'agent.daemon'``), so the children are
``socle-agent ...`` with the very same arguments. The entry point of both (``socle-agent``
and ``python -m agent``) is agent/entry.py; this module imports nothing of the agent, so
the scheduler, the CLI and the service writer all take their command lines from here.
"""

from __future__ import annotations

import sys

# The hidden command the scheduler runs as (agent/run_cmd.py execs it, never a person).
SCHEDULER_COMMAND = "scheduler-process"


def frozen() -> bool:
    """True in a frozen build (PyInstaller sets ``sys.frozen``): sys.executable is the agent."""
    return bool(getattr(sys, "frozen", False))


def agent_argv(*args: str, executable: str | None = None, is_frozen: bool | None = None) -> list[str]:
    """The command line that runs ``socle-agent ARGS`` with this agent's own code."""
    exe = executable if executable is not None else sys.executable
    if frozen() if is_frozen is None else is_frozen:
        return [exe, *args]
    return [exe, "-m", "agent", *args]
