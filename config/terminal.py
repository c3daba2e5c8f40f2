"""Text shown on a terminal: names, rooms, SSIDs and hostnames come from machines and files that anyone
may have written, so they are shown as text, never run as escape sequences.

:func:`printable` turns every control character (C0, DEL, C1: the escape sequences that move the
cursor, rewrite lines, set a window title or a hyperlink) and every bidirectional override (which can
make a line read differently from what it holds) into a visible ``\\xNN`` / ``\\uNNNN`` mark.
"""

from __future__ import annotations

import codecs
import contextlib
import re
import sys
import unicodedata
from collections.abc import Iterator
from typing import TextIO

_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
_UNSAFE_IN_LINES = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")  # tabs and line ends kept


def _mark(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control character and bidirectional override shown as a visible mark.

    >>> printable("CM1\\x1b]0;pwned\\x07")
    'CM1\\\\x1b]0;pwned\\\\x07'
    """
    return _UNSAFE.sub(_mark, text)


class PrintableStream:
    """A text stream that shows what is written to it as :func:`printable` text, its tabs and line ends
    kept: a command's whole output goes through it (``socle-collector``'s, ``socle-agent``'s), so no
    name read from a machine or a file reaches the terminal as an escape sequence."""

    def __init__(self, inner: TextIO) -> None:
        self.inner = inner

    def write(self, text: str) -> int:
        """Write ``text``, its control characters marked."""
        self.inner.write(_UNSAFE_IN_LINES.sub(_mark, text))
        return len(text)

    def flush(self) -> None:
        """Flush the stream underneath."""
        self.inner.flush()

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


# What a character the console cannot show becomes: the nearest ASCII, never an exception.
_NEAREST = {"\u2014": "-", "\u2013": "-", "\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"',
            "\u2026": "...", "\u00a0": " ", "\u2192": "->", "\u2265": ">=", "\u2264": "<=", "\u2248": "~",
            "\u00b7": ".", "\u2022": "*", "\u2713": "v", "\u2717": "x"}


def _nearest(char: str) -> str:
    if char in _NEAREST:
        return _NEAREST[char]
    bare = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    return bare if bare and bare.isascii() else "?"


def _degrade(err: UnicodeError) -> tuple[str, int]:
    """Codec error handler ``socle-degrade``: ``É`` -> ``E``, ``—`` -> ``-``, anything else -> ``?``."""
    if not isinstance(err, UnicodeEncodeError):
        raise err
    return "".join(_nearest(c) for c in err.object[err.start:err.end]), err.end


codecs.register_error("socle-degrade", _degrade)


def _raw(stream: object) -> object:
    return stream.inner if isinstance(stream, PrintableStream) else stream


def safe_console() -> None:
    """Standard output and error never raise on a character their encoding lacks (a cp1252 or cp850
    console, a redirected stdout on Windows): it is shown as its nearest ASCII instead."""
    for stream in (sys.stdout, sys.stderr):
        raw = _raw(stream)
        reconfigure = getattr(raw, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="socle-degrade")


def utf8_stdout() -> None:
    """Standard output in UTF-8 whatever the console's code page: what ``--json`` writes (JSON is
    UTF-8, RFC 8259), so a redirected report reads back the same on any machine."""
    reconfigure = getattr(_raw(sys.stdout), "reconfigure", None)
    if reconfigure is not None:
        reconfigure(encoding="utf-8", errors="strict")


@contextlib.contextmanager
def printable_output() -> Iterator[None]:
    """While it lasts, standard output and standard error show only printable text."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = PrintableStream(out), PrintableStream(err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err
