"""Entry point of ``socle-agent`` and ``python -m agent``: the scheduler process, or the CLI.

It stays light: the hidden ``scheduler-process`` command (agent/launch.py), which ``run``
execs, reaches agent/daemon.py without importing the CLI, its probes or pydantic.
"""

from __future__ import annotations

import sys

from agent.launch import SCHEDULER_COMMAND


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``socle-agent``: the scheduler process, or the command-line interface."""
    args = sys.argv[1:] if argv is None else list(argv)
    if args[:1] == [SCHEDULER_COMMAND]:
        from agent.daemon import main as scheduler_main

        return scheduler_main(args[1:])
    from agent.cli import main as cli_main

    return cli_main(args)
