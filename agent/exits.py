"""Exit codes of every ``socle-agent`` command, and the usage error that ends one with code 2.

0 pass, 1 does not meet the profile (or, for ``probe``, the probe gave no
figure), 2 usage or configuration error, 3 could not reach the collector where
it was required.
"""

from __future__ import annotations

EXIT_PASS = 0
EXIT_FAIL = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3


class UsageError(Exception):
    """A command that cannot run as asked (exit code 2)."""
