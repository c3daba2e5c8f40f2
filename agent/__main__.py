"""``python -m agent``: the same as the ``socle-agent`` command (agent/launch.py)."""

import sys

from agent.launch import main

sys.exit(main())
