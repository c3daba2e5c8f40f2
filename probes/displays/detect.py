"""Recognise what a saved file holds (an EDID, a hex dump, a display tool's output) and read it."""

from __future__ import annotations

import re
from collections.abc import Callable

from config.wire import DisplayReading, ProbeStatus
from probes.base import Outcome
from probes.displays import linux, macos, windows
from probes.displays.edid import HEADER, EdidError, hex_bytes, parse_edid
from probes.displays.reading import display_reading, outcome

NO_CONNECTOR = {"connector": "an EDID alone does not say which connector it was read on"}


def _edid_file(data: bytes) -> list[DisplayReading]:
    return [display_reading(parse_edid(data), source="file", where="EDID file", extra_missing=NO_CONNECTOR)]


def _edid_hex(text: str) -> list[DisplayReading]:
    data = hex_bytes(text)
    if data is None:
        raise EdidError("no EDID header in the hex")
    return [display_reading(parse_edid(data), source="file", where="EDID hex dump",
                            extra_missing=NO_CONNECTOR)]


TEXT_PARSERS: dict[str, Callable[[str], list[DisplayReading]]] = {
    "edid-hex": _edid_hex,
    "xrandr": linux.parse_xrandr,
    "ioreg": macos.parse_ioreg,
    "system_profiler": macos.parse_system_profiler,
    "system_profiler-json": macos.parse_system_profiler_json,
    "wmi-json": windows.parse_wmi_json,
    "wmi-list": windows.parse_wmi_list,
    "reg-query": windows.parse_reg_query,
}
TOOLS = ("edid", *TEXT_PARSERS)


def detect_tool(data: bytes) -> str | None:
    """What ``data`` is, from its content alone; None when it is none of the known forms."""
    if data[:8] == HEADER:
        return "edid"
    text = data.decode("utf-8", "replace")
    checks = (
        ("system_profiler-json", r'"SPDisplaysDataType"'),
        ("ioreg", r"(?m)^[\s|]*\+-o \S+\s+<class (?:AppleCLCD2|AppleDisplay|AppleBacklightDisplay"
                  r"|IODisplay)"),
        ("reg-query", r"(?m)^\s+EDID\s+REG_BINARY\s"),
        ("wmi-json", r'^\s*[\[{].*"InstanceName"'),
        ("wmi-list", r"(?m)^\s*InstanceName\s+: DISPLAY\\"),
        ("system_profiler", r"(?m)^\s+Displays:\s*$"),
        ("xrandr", r"(?m)^\S+ (?:connected|disconnected)\b"),
    )
    for tool, pattern in checks:
        if re.search(pattern, text, re.S if tool == "wmi-json" else 0):
            return tool
    return "edid-hex" if hex_bytes(text) is not None else None


def parse_output(data: bytes, tool: str | None = None) -> tuple[str | None, Outcome]:
    """(tool, outcome) for a saved file; unknown or unreadable content gives an ``error`` outcome."""
    tool = tool or detect_tool(data)
    if tool is None:
        return None, Outcome(ProbeStatus.error, None,
                             "unrecognised content: neither an EDID (binary or hex) nor an output of a "
                             f"display tool Socle reads ({', '.join(TOOLS)})")
    try:
        if tool == "edid":
            readings = _edid_file(data)
        elif tool in TEXT_PARSERS:
            readings = TEXT_PARSERS[tool](data.decode("utf-8", "replace"))
        else:
            return tool, Outcome(ProbeStatus.error, None, f"unknown tool {tool!r}; known: {', '.join(TOOLS)}")
    except (EdidError, ValueError, KeyError, IndexError) as exc:
        return tool, Outcome(ProbeStatus.error, None, f"cannot read this {tool} content: {exc}")
    empty = () if readings else (f"no display in this {tool} content",)
    return tool, outcome(f"file:{tool}", readings, empty)
