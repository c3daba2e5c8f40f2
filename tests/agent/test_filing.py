"""The plumbing ``check`` and ``survey`` share: exit codes, whom a report is for, its profile, filing it."""

from __future__ import annotations

from agent import exits


def test_exit_codes_are_the_documented_ones() -> None:
    assert (exits.EXIT_PASS, exits.EXIT_FAIL, exits.EXIT_USAGE, exits.EXIT_UNREACHABLE) == (0, 1, 2, 3)
