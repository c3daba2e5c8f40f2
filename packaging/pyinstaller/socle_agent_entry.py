"""The frozen agent's entry point: the same as the ``socle-agent`` command (agent/launch.py)."""

import sys

from agent.launch import main

if __name__ == "__main__":
    sys.exit(main())
