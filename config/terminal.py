"""Text shown on a terminal: names, rooms, SSIDs and hostnames come from machines and files that anyone
may have written, so they are shown as text, never run as escape sequences.

:func:`printable` turns every control character (C0, DEL, C1: the escape sequences that move the
cursor, rewrite lines, set a window title or a hyperlink) and every bidirectional override (which can
make a line read differently from what it holds) into a visible ``\\xNN`` / ``\\uNNNN`` mark.
"""

from __future__ import annotations

import re

_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")


def _mark(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control character and bidirectional override shown as a visible mark.

    >>> printable("CM1\\x1b]0;pwned\\x07")
    'CM1\\\\x1b]0;pwned\\\\x07'
    """
    return _UNSAFE.sub(_mark, text)
