"""Exit codes of every ``socle-agent`` command, and the usage error that ends one with code 2.

0 pass, 1 does not meet the profile (or, for ``probe``, the probe gave no
figure), 2 usage or configuration error, 3 could not reach the collector where
it was required, 4 the agent itself failed (one line, the log has the rest),
5 measured but the report could not be kept on this machine (a full disk, a
state directory it cannot write): it was sent straight to the collector when it
answered, and its loss otherwise is noted for ``status`` and the next report;
130 interrupted (Ctrl-C).
"""

from __future__ import annotations

EXIT_PASS = 0
EXIT_FAIL = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_INTERNAL = 4
EXIT_NOT_KEPT = 5
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """A command that cannot run as asked (exit code 2)."""
