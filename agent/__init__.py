"""The agent: schedule, run probes, keep and send reports."""

import os as _os
import sys as _sys

__version__ = "0.1.0"

# ``socle-agent`` takes a few seconds to import its libraries on a slow classroom machine; a Ctrl-C in
# that time would print Python's traceback. The console script imports this package first, so the
# interruption is caught from here on (agent/early.py); agent.cli.main hands Ctrl-C back to Python.
if _os.path.basename(getattr(_sys, "argv", [""])[0] or "").lower().startswith("socle-agent"):
    from agent import early as _early

    _early.install()
