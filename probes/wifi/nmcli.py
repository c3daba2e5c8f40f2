"""Linux NetworkManager: ``nmcli [-t] [-f FIELDS] dev wifi list``, terse or tabular, any language.

Tabular output pads every column to its widest value plus two spaces, in
*display* columns (a CJK character or an emoji takes two, a combining accent
none), so columns are found from the header's word starts and each row is cut
at the same display positions, never at byte or character offsets. Which
column holds what comes from the header's (English) names when known, and
from the values' shapes otherwise (a MAC, ``N Mbit/s``, ``N MHz``, bars,
``WPA2 802.1X``...), so translated headers read too. A row that cannot be cut
safely is counted as unreadable, never given invented values. Terse output
(``-t``) splits on unescaped ``:``. The signal is nmcli's own percentage: kept
as ``signal_quality_pct``, never turned into dBm.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from config.wire import WifiNetwork
from probes.base import Outcome
from probes.wifi.common import (
    ParseError,
    channel_of_freq,
    complete_network,
    display_width,
    finish,
    norm_mac,
    security_label,
)

BAR_CHARS = "▂▄▆█_*"
NAMES = {"in-use": "in-use", "*": "in-use", "active": "in-use", "bssid": "bssid", "ssid": "ssid",
         "mode": "mode", "chan": "chan", "freq": "freq", "rate": "rate", "signal": "signal",
         "bars": "bars", "security": "security"}
DEFAULT_TERSE = ("in-use", "bssid", "ssid", "mode", "chan", "rate", "signal", "bars", "security")
OLD_TERSE = ("in-use", "ssid", "mode", "chan", "rate", "signal", "bars", "security")
SEC_WORDS = {"WPA1", "WPA2", "WPA3", "WEP", "802.1X", "OWE", "OWE-TM", "--", "WPA", "SAE"}
SHAPES: dict[str, Callable[[str], bool]] = {
    "in-use": lambda v: v.strip() in ("*", "", "yes", "no"),
    "bssid": lambda v: norm_mac(v) is not None,
    "rate": lambda v: re.fullmatch(r"\d+(?:[.,]\d+)?\s+\S+/s", v) is not None,
    "freq": lambda v: re.fullmatch(r"\d{4}\s*MHz", v) is not None,
    "bars": lambda v: v != "" and all(c in BAR_CHARS for c in v),
    "security": lambda v: all(w in SEC_WORDS for w in v.split()),
    "mode": lambda v: v in ("Infra", "Ad-Hoc", "Mesh", "N/A", "--"),
    "chan": lambda v: v.isdigit() and 1 <= int(v) <= 233,
    "signal": lambda v: v.isdigit() and 0 <= int(v) <= 100,
    "ssid": lambda v: True,
}


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


def _guess_kinds(columns: list[list[str]], names: list[str | None]) -> list[str | None]:
    """Each column's kind: its header name when known, else the one shape all its values share."""
    kinds: list[str | None] = list(names)
    for kind in ("bssid", "freq", "rate", "bars", "in-use", "mode", "security"):
        if kind in kinds:
            continue
        for i, col in enumerate(columns):
            # "--" is nmcli's blank in every column: a column of blanks shows no shape
            if kinds[i] is None and any(v not in ("", "--") for v in col) \
                    and all(SHAPES[kind](v) for v in col):
                kinds[i] = kind
                break
    ints = [i for i, col in enumerate(columns) if kinds[i] is None and col and all(v.isdigit() for v in col)]
    if "bars" in kinds and "signal" not in kinds:  # nmcli always prints BARS right after SIGNAL
        before = kinds.index("bars") - 1
        if before in ints:
            kinds[before] = "signal"
            ints.remove(before)
    if "freq" in kinds and "chan" not in kinds:  # beside a FREQ column, CHAN is its channels, or absent
        freqs = columns[kinds.index("freq")]
        if chans := [i for i in ints if _is_chan_of(columns[i], freqs)]:
            kinds[chans[0]] = "chan"
            ints.remove(chans[0])
    for kind in ("chan", "signal"):  # nmcli's order: CHAN before SIGNAL
        if kind not in kinds and ints and all(SHAPES[kind](v) for v in columns[ints[0]]) \
                and not (kind == "chan" and "freq" in kinds):
            kinds[ints.pop(0)] = kind
    if "ssid" not in kinds:
        free = [i for i, k in enumerate(kinds) if k is None]
        if free:
            kinds[free[0]] = "ssid"
    return kinds


def _is_chan_of(col: list[str], freqs: list[str]) -> bool:
    """Every value is the channel of the same row's ``NNNN MHz``."""
    return all(f[:4].isdigit() and channel_of_freq(int(f[:4])) == int(v)
               for v, f in zip(col, freqs, strict=True))


def _security(text: str) -> str:
    """``WPA1 WPA2`` -> ``WPA/WPA2-Personal``; ``WPA2 802.1X`` -> enterprise; ``--`` -> open."""
    words = text.replace("--", "").split()
    versions = {"WPA" if w == "WPA1" else w for w in words if w in ("WPA1", "WPA2", "WPA3", "WEP")}
    if "SAE" in words:
        versions.add("WPA3")
    if "OWE" in words and not versions:
        return "OWE"
    return security_label(versions, "802.1X" in words)


def _network(row: dict[str, str]) -> tuple[WifiNetwork, bool]:
    net: dict[str, Any] = {}
    if (ssid := row.get("ssid")) is not None:
        net["ssid"] = "" if ssid == "--" else ssid[:32]
    if "bssid" in row:
        net["bssid"] = norm_mac(row["bssid"])
    if SHAPES["chan"](row.get("chan", "")):
        net["channel"] = int(row["chan"])
    if m := re.match(r"(\d{4})\s*MHz", row.get("freq", "")):
        net["frequency_mhz"] = int(m.group(1))
    if SHAPES["signal"](row.get("signal", "")):
        net["signal_quality_pct"] = float(row["signal"])
    if "security" in row and SHAPES["security"](row["security"]):
        net["security"] = _security(row["security"])
    return complete_network(net), row.get("in-use", "").strip() in ("*", "yes")


def _header_starts(header: str) -> list[tuple[int, str]]:
    """(display column, name) of each header word: words are separated by two spaces or more."""
    out, col, i = [], 0, 0
    for m in re.finditer(r"\S+(?: \S+)*", header):
        col += display_width(header[i:m.start()])
        out.append((col, m.group(0)))
        col += display_width(m.group(0))
        i = m.end()
    return out


def _cut(row: str, starts: list[int]) -> list[str] | None:
    """The row's cells at the header's display columns; None when a character straddles a cut."""
    cells = [""] * len(starts)
    col, idx = 0, 0
    for ch in row:
        while idx + 1 < len(starts) and col >= starts[idx + 1]:
            idx += 1
        w = display_width(ch)
        if w and idx + 1 < len(starts) and col + w > starts[idx + 1]:
            return None
        cells[idx] += ch
        col += w
    for cell in cells[:-1]:
        if cell.strip() and not cell.endswith("  "):
            return None  # a value runs into the next column: widths disagree
    return [c.strip() for c in cells]


def _anchored(row: str, kinds: list[str | None]) -> list[str] | None:
    """Cells found around the free-text SSID: shaped cells on its left, 2-space-separated on its right."""
    if "ssid" not in kinds:
        return None
    at = kinds.index("ssid")
    rest, left = row, []
    for kind in kinds[:at]:
        m = re.match(r"^\s*(\*)(?=\s)" if kind == "in-use" else r"^\s*(\S+)", rest)
        if kind == "in-use" and not m:
            left.append("")
            continue
        if not m:
            return None
        left.append(m.group(1))
        rest = rest[m.end():]
    right_n = len(kinds) - at - 1
    tokens = list(re.finditer(r"\S+(?: \S+)*", rest))
    if len(tokens) < right_n + 1:
        return None
    right = [t.group(0) for t in tokens[len(tokens) - right_n:]] if right_n else []
    end = tokens[len(tokens) - right_n].start() if right_n else len(rest)
    return [*left, rest[:end].strip(), *right]


def _valid(cells: list[str] | None, kinds: list[str | None]) -> bool:
    return cells is not None and all(k is None or SHAPES[k](c) or (k == "security" and c == "")
                                     for c, k in zip(cells, kinds, strict=True))


def _rows_table(lines: list[str]) -> tuple[list[dict[str, str]], list[str]]:
    """Rows of the tabular form (with a header line), and the rows that could not be cut."""
    heads = _header_starts(lines[0])
    starts = [c for c, _ in heads]
    names: list[str | None] = [NAMES.get(n.lower()) for _, n in heads]
    if starts and starts[0] != 0:
        starts[0] = 0
    first_cut = [_cut(ln, starts) for ln in lines[1:]]
    columns = [[c[i] for c in first_cut if c] for i in range(len(starts))]
    kinds = _guess_kinds(columns, names)
    rows, bad = [], []
    for line, cells in zip(lines[1:], first_cut, strict=True):
        if not _valid(cells, kinds):
            cells = _anchored(line, kinds)
        if cells is None or not _valid(cells, kinds):
            bad.append(line)
            continue
        rows.append({k: c for k, c in zip(kinds, cells, strict=True) if k})
    return rows, bad


def _rows_headerless(lines: list[str]) -> tuple[list[dict[str, str]], list[str]]:
    """Rows pasted without their header: nmcli's default columns, cells found by shape."""
    rows, bad = [], []
    for line in lines:
        for kinds in (list[str | None](DEFAULT_TERSE), list[str | None](OLD_TERSE)):
            cells = _anchored(line, kinds)
            if _valid(cells, kinds):
                rows.append({k: c for k, c in zip(kinds, cells, strict=True) if k})  # type: ignore[arg-type]
                break
        else:
            bad.append(line)
    return rows, bad


def _rows_terse(lines: list[str], fields: list[str | None] | None) -> tuple[list[dict[str, str]], list[str]]:
    split = [_split_terse(ln) for ln in lines]
    n = max(len(p) for p in split)
    if fields is None or len(fields) != n:
        names: list[str | None] = [None] * n
        if n in (len(DEFAULT_TERSE), len(OLD_TERSE)) and fields is None:
            guess = list(DEFAULT_TERSE if n == len(DEFAULT_TERSE) else OLD_TERSE)
            whole = [p for p in split if len(p) == n]
            if all(SHAPES[k](p[i]) or (k == "security" and p[i] == "")
                   for p in whole for i, k in enumerate(guess) if k != "ssid"):
                names = list(guess)
        fields = names
    columns = [[p[i] for p in split if len(p) == n] for i in range(n)]
    kinds = _guess_kinds(columns, fields)
    rows, bad = [], []
    for line, parts in zip(lines, split, strict=True):
        if len(parts) != n or not _valid(parts, kinds):
            bad.append(line)
        else:
            rows.append({k: c for k, c in zip(kinds, parts, strict=True) if k})
    return rows, bad


def _command_fields(line: str) -> list[str | None] | None:
    if m := re.search(r"nmcli\b.*?(?:--fields|-f)\s+(\S+)", line):
        return [NAMES.get(f.lower()) for f in m.group(1).split(",")]
    return None


def parse_nmcli(text: str) -> Outcome:
    """Networks from ``nmcli [-t] [-f ...] dev wifi list``; the in-use one is the link.

    Sample (tabular; columns by display width)::

        IN-USE  BSSID              SSID              MODE   CHAN  RATE        SIGNAL  BARS  SECURITY
        *       A0:39:EE:A2:FA:1F  LAG               Infra  112   405 Mbit/s  100     ▂▄▆█  WPA2
                52:C7:BF:75:81:B0  🦁 #Milei2023 🦁  Infra  6     195 Mbit/s  100     ▂▄▆█  WPA2
    """
    fields, lines = None, []
    for line in text.replace("\r", "").splitlines():
        if "nmcli" in line and (f := _command_fields(line)) is not None:
            fields = f
        if re.match(r"^\s*(#|//|\$ |\S+@\S+[:~].*[$#] |\[\S+@\S+ .*\][$#] )", line) or not line.strip():
            continue
        lines.append(line.rstrip())
    if not lines:
        raise ParseError("no network line: empty nmcli output")
    first = lines[0]
    terse = "\\:" in text or (fields is not None and not re.search(r"\S {2,}\S", first)) or (
        all(":" in ln for ln in lines) and not any(re.search(r"\S {2,}\S", ln) for ln in lines))
    has_header = not terse and not any(SHAPES["bssid"](t) or t == "*" for t in first.split())
    if terse:
        rows, bad = _rows_terse(lines, fields)
    elif has_header and len(lines) >= 1:
        rows, bad = _rows_table(lines)
    else:
        rows, bad = _rows_headerless(lines)
    if not rows and bad:
        raise ParseError(f"no row could be read ({len(bad)} unreadable): not an nmcli wifi listing?")
    return _outcome(_unquoted(rows), bad)


def _unquoted(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """nmcli 0.9.8 and older print every SSID in single quotes (``'home'``): the quotes are not
    the name's. Only when the whole column is quoted, so one SSID that really is ``'x'`` stays."""
    named = [r["ssid"] for r in rows if r.get("ssid") not in (None, "", "--")]
    if not named or not all(len(s) >= 2 and s[0] == s[-1] == "'" for s in named):
        return rows
    return [{**r, "ssid": r["ssid"][1:-1]} if r.get("ssid") not in (None, "", "--") else r for r in rows]


def _outcome(rows: list[dict[str, str]], bad: list[str]) -> Outcome:
    nets, link = [], {}
    for row in rows:
        net, in_use = _network(row)
        nets.append(net)
        if in_use:
            link = {"connected": True, "mode": "station", **net.model_dump(exclude_none=True, include={
                "ssid", "bssid", "channel", "frequency_mhz", "band", "signal_quality_pct", "security"})}
    missing = {"signal_dbm": "nmcli gives the signal as a percentage only",
               "noise_dbm": "nmcli does not report the noise floor"}
    if bad:
        missing["neighbours"] = f"{len(bad)} row(s) could not be split safely and were left out"
    in_use_bad = any(re.match(r"^\s*\*\s", ln) or ln.startswith(("yes:", "*:")) for ln in bad)
    if not link and in_use_bad:
        link = {"connected": True, "mode": "station"}
        for key in ("ssid", "bssid", "channel", "signal_quality_pct"):
            missing[key] = "the row of the network in use could not be split safely"
    has_in_use = any("in-use" in r for r in rows)
    if not link and has_in_use:
        return finish("nmcli", {"connected": False}, missing, nets,
                      unavailable="not connected: nmcli marks no network in use")
    if not link:
        missing["connected"] = "this nmcli listing has no IN-USE column"
        missing["signal_quality_pct"] = "no network is marked in use"
    return finish("nmcli", link, missing, nets)
