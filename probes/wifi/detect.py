"""Recognise which tool printed a saved output, and parse it with the right parser."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from config.wire import ProbeStatus
from probes.base import Outcome
from probes.encoding import decode_output
from probes.wifi import linux, macos, nmcli, pcap, sp_text, windows
from probes.wifi.common import ParseError

PCAP_MAGICS = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d",
               b"\x0a\x0d\x0d\x0a")

PARSERS: dict[str, Callable[[str], Outcome]] = {
    "iw-dev": linux.outcome_iw_dev,
    "iw-link": linux.parse_iw_link,
    "iw-scan": linux.parse_iw_scan,
    "iw-station": linux.parse_iw_station,
    "iwconfig": linux.parse_iwconfig,
    "proc-net-wireless": linux.parse_proc_net_wireless,
    "nmcli": nmcli.parse_nmcli,
    "netsh-interfaces": windows.parse_netsh_interfaces,
    "netsh-networks": windows.outcome_netsh_networks,
    "wdutil": macos.parse_wdutil,
    "system_profiler": macos.parse_system_profiler,
    "airport": macos.parse_airport_info,
    "airport-scan": macos.outcome_airport_scan,
}
TOOLS = (*PARSERS, "pcap")


def detect_tool(data: bytes) -> str | None:
    """The tool whose output ``data`` is, from its content alone; None when unknown."""
    if data[:4] in PCAP_MAGICS:
        return "pcap"
    text = data.decode("utf-8", "replace")
    checks: list[tuple[str, str]] = [
        ("system_profiler", r'(?m)"SPAirPortDataType"|^\s*(Current Network Information|'
                            r'(Other )?Local Wi-Fi Networks):\s*$'),
        ("airport", r"agrCtlRSSI|airport command line tool is deprecated"),
        ("airport-scan", r"SSID BSSID\s+RSSI CHANNEL"),
        ("wdutil", r"(?m)^WIFI\s*$"),
        ("proc-net-wireless", r"Inter-\|\s+sta-\|"),
        ("iw-scan", r"(?m)^BSS [0-9a-fx:]+\s*\(on "),
        ("iw-link", r"(?m)^(Connected to \S+ \(on |Not connected\.)"),
        ("iw-station", r"(?m)^Station \S+ \(on "),
        ("iw-dev", r"(?m)^(phy#\d+|Interface \S+)\s*$"),
        ("netsh-interfaces", r"(?m)WlanQueryInterface|^\s+\S.*:\s*[0-9a-fx]{8}-[0-9a-fx]{4}-"),
        ("netsh-networks", r"(?m)ms-settings:privacy-location|^SSID \d+[\s\u00a0]*:"),
        ("iwconfig", r"(?m)no wireless extensions|ESSID:|^\S+\s+(IEEE )?802\.11\w*\s"),
        # nmcli's tabular header: upper-case column names two spaces apart, SSID among them
        ("nmcli", r"(?m)nmcli |\\:|[▂▄▆█]|^\s*SSID\s+BARS"
                  r"|^[ *]*(?=[^\n]*\bSSID\b)(?:[A-Z][A-Z0-9-]*(?: {2,}|[ \t]*$)){3,}"),
    ]
    for tool, pattern in checks:
        if re.search(pattern, text):
            return tool
    if sp_text.looks_like(text):
        return "system_profiler"
    return None


def parse_output(data: bytes, tool: str | None = None, path: Path | None = None,
                 encoding: str = "utf-8") -> tuple[str | None, Outcome]:
    """(tool, outcome) for a saved output; unknown or broken content gives an ``error`` outcome.

    ``encoding``: what the file was saved in (a ``netsh ... > file.txt`` on a French Windows writes
    cp850); a byte-order mark wins over it (probes/encoding.py)."""
    # the bytes first (a capture's magic number), then the text in its encoding (UTF-16 has NULs)
    tool = tool or detect_tool(data) or detect_tool(decode_output(data, encoding).encode("utf-8"))
    if tool is None:
        return None, Outcome(ProbeStatus.error, None,
                             "unrecognised content: not an output of a Wi-Fi tool Socle reads "
                             f"({', '.join(TOOLS)})")
    try:
        if tool == "pcap":
            if path is None:
                raise ParseError("a capture must be read from a file")
            return tool, pcap.parse_pcap(path)
        if tool not in PARSERS:
            return tool, Outcome(ProbeStatus.error, None,
                                 f"unknown tool {tool!r}; known: {', '.join(TOOLS)}")
        return tool, PARSERS[tool](decode_output(data, encoding))
    except (ParseError, ValueError, KeyError, IndexError) as exc:
        return tool, Outcome(ProbeStatus.error, None, f"cannot read this {tool} output: {exc}")
