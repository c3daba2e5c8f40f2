"""``python -m agent``: the same as the ``socle-agent`` command (agent/entry.py)."""

import sys

from agent.entry import main

sys.exit(main())
