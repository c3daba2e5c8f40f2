"""Linux NetworkManager: ``nmcli -t dev wifi list`` (terse) and its tabular form.

nmcli gives the signal as a percentage (its own scale); it is kept as
``signal_quality_pct``, never turned into dBm.
"""

from __future__ import annotations

import re
from typing import Any

from config.wire import WifiNetwork
from probes.base import Outcome
from probes.wifi.common import ParseError, complete_network, finish, norm_mac, security_label

BARS = "▂▄▆█_*"
# nmcli's default field lists for `-t dev wifi list` (1.16+ with BSSID, older without).
DEFAULT_TERSE = ("in-use", "bssid", "ssid", "mode", "chan", "rate", "signal", "bars", "security")
OLD_TERSE = ("in-use", "ssid", "mode", "chan", "rate", "signal", "bars", "security")
ALIASES = {"active": "in-use", "*": "in-use", "freq": "freq", "chan": "chan"}


def _split_terse(line: str) -> list[str]:
    """Split on ``:`` not escaped by ``\\``; unescape ``\\:`` and ``\\\\``."""
    out, cur, i = [], "", 0
    while i < len(line):
        c = line[i]
        if c == "\\" and i + 1 < len(line):
            cur += line[i + 1]
            i += 2
            continue
        if c == ":":
            out.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    out.append(cur)
    return out


def _security(text: str) -> str:
    """``WPA1 WPA2`` -> ``WPA/WPA2-Personal``; ``WPA2 802.1X`` -> enterprise; ``--`` -> open."""
    words = text.replace("--", "").split()
    versions = {"WPA" if w == "WPA1" else w for w in words if w in ("WPA1", "WPA2", "WPA3", "WEP")}
    return security_label(versions, "802.1X" in words)


def _network(row: dict[str, str]) -> tuple[WifiNetwork, bool]:
    net: dict[str, Any] = {}
    ssid = row.get("ssid")
    if ssid is not None:
        net["ssid"] = "" if ssid == "--" else ssid
    if "bssid" in row:
        net["bssid"] = norm_mac(row["bssid"])
    if row.get("chan", "").isdigit():
        net["channel"] = int(row["chan"])
    if m := re.match(r"(\d+)\s*MHz", row.get("freq", "")):
        net["frequency_mhz"] = int(m.group(1))
    if row.get("signal", "").isdigit():
        net["signal_quality_pct"] = float(row["signal"])
    if "security" in row:
        net["security"] = _security(row["security"])
    in_use = row.get("in-use", "").strip() in ("*", "yes")
    return complete_network(net), in_use


def _rows_terse(lines: list[str], fields: tuple[str, ...] | None) -> list[dict[str, str]]:
    rows = []
    for line in lines:
        parts = _split_terse(line)
        names = fields
        if names is None:
            names = DEFAULT_TERSE if len(parts) == len(DEFAULT_TERSE) else OLD_TERSE
        if len(parts) != len(names):
            raise ParseError(f"{len(parts)} fields where {len(names)} were expected: {line!r}")
        rows.append(dict(zip(names, parts, strict=True)))
    return rows


def _rows_table(lines: list[str]) -> list[dict[str, str]]:
    """Tabular output, with a header (column starts) or without (value shapes)."""
    first = lines[0].split()
    rows: list[dict[str, str]] = []
    if "SSID" in first or "BSSID" in first:
        header = lines[0]
        cols = [(m.start(), m.group(0).lower()) for m in re.finditer(r"\S+", header)]
        for line in lines[1:]:
            cells: dict[str, str] = {}
            for i, (start, name) in enumerate(cols):
                end = cols[i + 1][0] if i + 1 < len(cols) else None
                cells[ALIASES.get(name, name)] = line[start:end].strip()
            rows.append(cells)
        return rows
    for line in lines:
        row: dict[str, str] = {"in-use": "*" if line.lstrip().startswith("*") else ""}
        for cell in re.split(r"\s{2,}", line.strip().lstrip("*").strip()):
            if norm_mac(cell) and "bssid" not in row:
                row["bssid"] = cell
            elif "bssid" in row and "ssid" not in row:
                row["ssid"] = cell
            elif cell in ("Infra", "Ad-Hoc", "Mesh"):
                row["mode"] = cell
            elif re.fullmatch(r"\d+ Mbit/s", cell):
                row["rate"] = cell
            elif cell.isdigit():
                row["chan" if "rate" not in row else "signal"] = cell
            elif cell and all(c in BARS for c in cell):
                row["bars"] = cell
            else:
                row["security"] = cell
        rows.append(row)
    return rows


def parse_nmcli(text: str) -> Outcome:
    """Networks from ``nmcli [-t] [--fields ...] dev wifi list``; the in-use one is the link.

    Sample (terse; ``\\:`` escapes a colon)::

        *:FE\\:DC\\:BA\\:09\\:87\\:03:SSID-3:Infra:1:260 Mbit/s:87:▂▄▆█:WPA2
    """
    fields: tuple[str, ...] | None = None
    lines = []
    for line in text.splitlines():
        if m := re.search(r"nmcli .*--fields\s+(\S+)", line):
            fields = tuple(ALIASES.get(f.lower(), f.lower()) for f in m.group(1).split(","))
        if re.match(r"^\s*(#|//|\$ )", line) or not line.strip():
            continue
        lines.append(line.rstrip("\n"))
    if not lines:
        raise ParseError("no network line: empty nmcli output")
    terse = fields is not None or any("\\:" in ln for ln in lines) or (
        ":" in lines[0] and not re.search(r"\S\s{2,}\S", lines[0]))
    rows = _rows_terse(lines, fields) if terse else _rows_table(lines)
    nets, link = [], {}
    for row in rows:
        net, in_use = _network(row)
        nets.append(net)
        if in_use:
            link = {"connected": True, **net.model_dump(exclude_none=True, include={
                "ssid", "bssid", "channel", "frequency_mhz", "band", "signal_quality_pct",
                "security"})}
    missing = {"signal_dbm": "nmcli gives the signal as a percentage only",
               "noise_dbm": "nmcli does not report the noise floor"}
    has_in_use = any("in-use" in r for r in rows)
    if not link and has_in_use:
        return finish("nmcli", {"connected": False}, missing, nets,
                      unavailable="not connected: nmcli marks no network in use")
    if not link:
        missing["connected"] = "this nmcli listing has no IN-USE column"
        missing["signal_quality_pct"] = "no network is marked in use"
    return finish("nmcli", link, missing, nets)
