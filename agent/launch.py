"""How the agent starts itself again: the same way frozen (PyInstaller) and from a Python install.

``socle-agent run`` becomes the small scheduler process and that process starts each check
as a child ``socle-agent``. From a Python install those are ``python -m agent ...``; in a
frozen build there is no ``-m`` (the executable is the agent, and ``python -m agent.daemon``
would reach argparse as ``invalid choice: 'agent.daemon'``), so the children are
``socle-agent ...`` with the very same arguments. This module is the entry point of both
(``socle-agent`` and ``python -m agent``) and stays light: the hidden ``scheduler-process``
command reaches agent/daemon.py without importing the CLI, its probes or pydantic.
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


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``socle-agent``: the scheduler process, or the command-line interface."""
    args = sys.argv[1:] if argv is None else list(argv)
    if args[:1] == [SCHEDULER_COMMAND]:
        from agent.daemon import main as scheduler_main

        return scheduler_main(args[1:])
    from agent.cli import main as cli_main

    return cli_main(args)
