"""How a tool's output bytes become text: the console's code page on Windows, UTF-8 elsewhere.

Windows console tools (``netsh``, ``powershell`` when redirected, ``schtasks``,
``icacls``) write to a pipe in the console's output code page, which is the
OEM code page when the process has no console (a service, a scheduled task):
cp850 on a French or Spanish Windows, cp437 on an American one. Decoding that
as UTF-8 turns ``État`` into ``\\ufffdtat``, and the French ``netsh`` labels stop
matching. :func:`windows_code_page` asks Windows (``GetConsoleOutputCP``, then
``GetOEMCP``); :func:`decode_output` decodes with it, after a byte-order mark
(some tools write UTF-16 or UTF-8 with a BOM whatever the code page).
"""

from __future__ import annotations

import codecs
from collections.abc import Callable

CodePage = Callable[[], str]


def _kernel32_code_page() -> str:
    """The code page a child's redirected output arrives in, from kernel32 (Windows only)."""
    import ctypes

    kernel32 = ctypes.WinDLL("kernel32")  # type: ignore[attr-defined]
    cp = int(kernel32.GetConsoleOutputCP()) or int(kernel32.GetOEMCP())  # 0: no console
    return f"cp{cp}"


def windows_code_page(query: Callable[[], str] = _kernel32_code_page) -> str:
    """A Python codec name for Windows's console output code page (``cp850``, ``utf-8`` for 65001),
    or ``cp437`` (the OEM default) when Windows cannot be asked."""
    try:
        name = query()
    except (OSError, AttributeError, ValueError):
        return "cp437"
    if name == "cp65001":
        return "utf-8"
    try:
        return codecs.lookup(name).name
    except LookupError:  # a code page Python has no codec for
        return "cp437"


def output_encoding(os_name: str, code_page: CodePage = windows_code_page) -> str:
    """The encoding a tool's output is read in on ``os_name``."""
    return code_page() if os_name == "windows" else "utf-8"


def decode_output(data: bytes, encoding: str) -> str:
    """``data`` as text: a UTF-16 or UTF-8 byte-order mark wins, ``encoding`` otherwise;
    undecodable bytes become U+FFFD rather than an exception."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", "replace")
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8", "replace")
    return data.decode(encoding, "replace")
