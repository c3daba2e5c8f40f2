"""Ctrl-C before ``socle-agent``'s main function runs: one line and exit code 130, as after it."""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType


def _interrupted(_signum: int, _frame: FrameType | None) -> None:
    from agent.i18n import _, use_system_language  # the stdlib's gettext only: cheap here

    use_system_language()
    sys.stderr.write(_("socle-agent: interrupted") + "\n")
    sys.stderr.flush()
    os._exit(130)  # nothing to clean up yet: no file is open, no report is taken


def install() -> None:
    """Catch SIGINT until :func:`release`."""
    signal.signal(signal.SIGINT, _interrupted)


def release() -> None:
    """Ctrl-C raises KeyboardInterrupt again (agent.cli.main turns it into one line and 130)."""
    if signal.getsignal(signal.SIGINT) is _interrupted:
        signal.signal(signal.SIGINT, signal.default_int_handler)
