"""Text shown on a terminal is shown, never run: control characters and bidirectional overrides are marked."""

from __future__ import annotations

import pytest

from config.terminal import printable


@pytest.mark.parametrize(("raw", "shown"), [
    ("CM1", "CM1"),
    ("École Saint-Exupéry 🙂", "École Saint-Exupéry 🙂"),
    ("CM1\x1b[2J\x1b[H", "CM1\\x1b[2J\\x1b[H"),  # clear the screen, cursor home
    ("x\x1b]0;title\x07", "x\\x1b]0;title\\x07"),  # set the window title
    ("a\x1b]8;;http://evil.example\x1b\\lien\x1b]8;;\x1b\\", "a\\x1b]8;;http://evil.example\\x1b\\lien\\x1b]8;;\\x1b\\"),
    ("nul\x00byte", "nul\\x00byte"),
    ("line\nbreak\rback", "line\\x0abreak\\x0dback"),
    ("\x9b31m", "\\x9b31m"),  # the one-byte C1 control sequence introducer
    ("admin\u202egnp.exe", "admin\\u202egnp.exe"),  # a right-to-left override
])
def test_printable_marks_what_a_terminal_would_run(raw: str, shown: str) -> None:
    assert printable(raw) == shown
