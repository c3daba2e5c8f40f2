"""Linux ``iw dev IF scan`` / ``scan dump``: every BSS heard; the ``-- associated`` one is the link."""

from __future__ import annotations

import re
from typing import Any

from config.wire import WifiNetwork
from probes.base import Outcome
from probes.wifi.common import ParseError, complete_network, finish, norm_mac, security_label
from probes.wifi.iw import strip_prompts


def _iw_ssid(text: str) -> str:
    """iw prints non-printable SSID bytes as ``\\xNN``; an all-zero SSID is a hidden network."""
    raw = re.sub(rb"\\x([0-9a-fA-F]{2})", lambda m: bytes([int(m.group(1), 16)]),
                 text.encode("utf-8", "surrogateescape"))
    if raw.strip(b"\x00") == b"":
        return ""
    return raw[:32].decode("utf-8", "replace")


def _indent(line: str) -> int:
    return len(line.expandtabs(8)) - len(line.expandtabs(8).lstrip())


def _scan_security(block: list[str], privacy: bool) -> tuple[str, list[str]]:
    """Security of one BSS from its RSN / WPA elements and the Privacy capability bit."""
    versions: set[str] = set()
    auth: list[str] = []
    ciphers: list[str] = []
    section: str | None = None
    base = _indent(block[0]) if block else 0
    for line in block:
        s = line.strip()
        if _indent(line) <= base and not s.startswith("*"):
            section = "RSN" if s.startswith("RSN:") else "WPA" if s.startswith("WPA:") else None
        if section is None:
            continue
        if m := re.search(r"Authentication suites: (.*)", s):
            auth += m.group(1).split()
            sel = m.group(1).split()
            if section == "RSN":
                versions.add("WPA3" if any("SAE" in a for a in sel) else "WPA2")
                if any("SAE" in a for a in sel) and any(a.endswith("PSK") for a in sel):
                    versions.add("WPA2")
            else:
                versions.add("WPA")
        elif m := re.search(r"Pairwise ciphers: (.*)", s):
            ciphers += m.group(1).split()
    if not versions:
        return ("WEP" if privacy else "open"), []
    enterprise = any("802.1X" in a or (a.endswith("/SHA256") and "PSK" not in a) for a in auth)
    return security_label(versions, enterprise), ciphers


def parse_iw_scan(text: str) -> Outcome:
    """Networks from ``iw dev IF scan`` / ``scan dump``; the ``-- associated`` one is the link.

    Sample::

        BSS 00:19:a9:cd:c6:80 (on wlan0) -- associated
            freq: 2412
            capability: ESS Privacy ShortPreamble ShortSlotTime (0x0431)
            signal: -45.00 dBm
            SSID: Cisco1240
            RSN:     * Version: 1
                     * Authentication suites: PSK
    """
    lines = strip_prompts(text)
    blocks: list[list[str]] = []
    for line in lines:
        if line.startswith("BSS "):
            blocks.append([line])
        elif blocks:
            blocks[-1].append(line)
    if not blocks:
        raise ParseError("no 'BSS' line: not an 'iw scan' output")
    nets: list[WifiNetwork] = []
    link: dict[str, Any] = {}
    missing: dict[str, str] = {}
    ciphers_in_use: list[str] = []
    for block in blocks:
        head = re.match(r"^BSS (\S+?)\s*\(on (\S+)\)(.*)$", block[0])
        if not head:
            raise ParseError(f"unreadable BSS line {block[0]!r}")
        body = block[1:]
        net: dict[str, Any] = {"bssid": norm_mac(head.group(1))}
        privacy = False
        top = min((_indent(ln) for ln in body if ln.strip()), default=0)
        width = None
        ht_secondary = None
        ht_any = False
        vht_width = None
        phys: set[str] = set()
        for line in body:
            s = line.strip()
            at_top = _indent(line) == top
            if at_top and (m := re.match(r"^freq: ([\d.]+)", s)):
                net["frequency_mhz"] = float(m.group(1))
            elif at_top and (m := re.match(r"^signal: (-?[\d.]+) dBm", s)):
                net["signal_dbm"] = float(m.group(1)) if float(m.group(1)) < 0 else None
            elif at_top and s.startswith("SSID:"):
                net["ssid"] = _iw_ssid(s[5:].strip())
            elif at_top and s.startswith("capability:"):
                privacy = "Privacy" in s
            elif at_top and (m := re.match(r"^DS Parameter set: channel (\d+)", s)):
                net["channel"] = int(m.group(1))
            elif at_top and (m := re.match(r"^(HT|VHT|HE|EHT) capabilities", s)):
                phys.add(m.group(1))
            elif m := re.search(r"secondary channel offset: (.*)", s):
                ht_secondary = m.group(1).strip()
            elif "STA channel width: any" in s:
                ht_any = True
            elif m := re.search(r"^\* channel width: (\d)", s):
                vht_width = int(m.group(1))
        if vht_width in (1, 2, 3):
            width = {1: 80, 2: 160, 3: 160}[vht_width]
        elif ht_any and ht_secondary and ht_secondary != "no secondary":
            width = 40
        elif ht_secondary is not None or ht_any:
            width = 20
        net["channel_width_mhz"] = width
        for tag, gen in (("EHT", "be"), ("HE", "ax"), ("VHT", "ac"), ("HT", "n")):
            if tag in phys:
                net["phy"] = gen
                break
        net["security"], ciphers = _scan_security(body, privacy)
        nw = complete_network(net)
        nets.append(nw)
        if "associated" in head.group(3):
            ciphers_in_use = ciphers
            link = {"connected": True, "interface": head.group(2), **nw.model_dump(
                include={"ssid", "bssid", "frequency_mhz", "channel", "band", "channel_width_mhz",
                         "signal_dbm", "security", "phy"})}
    if not link:
        missing["connected"] = missing["signal_dbm"] = "the scan marks no network as associated"
        link = {"interface": re.match(r"^BSS \S+?\s*\(on (\S+)\)", blocks[0][0]).group(1)}  # type: ignore[union-attr]
    missing.setdefault("noise_dbm", "iw scan does not report the noise floor")
    return finish("iw-scan", link, missing, nets, ciphers=ciphers_in_use)
