"""The frozen agent's entry point: the same as the ``socle-agent`` command (agent/entry.py)."""

import sys

from agent.entry import main

if __name__ == "__main__":
    sys.exit(main())
