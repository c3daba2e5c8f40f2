"""Linux: ``iw`` (dev, link, scan, station), ``nmcli -t``, ``/proc/net/wireless``, ``iwconfig``."""

from __future__ import annotations

import re
from typing import Any

from config.wire import WifiNetwork
from probes.base import Outcome
from probes.wifi.common import (
    ParseError,
    complete_network,
    finish,
    norm_mac,
    security_label,
    signal_or_reason,
)


def _strip_comments(text: str) -> list[str]:
    """Lines, without the prompt/comment lines people paste above an output."""
    return [ln for ln in text.splitlines()
            if not re.match(r"^\s*(#|//|\$ )", ln)]


def _bitrate(text: str) -> tuple[float | None, int | None, str | None]:
    """``702.0 MBit/s VHT-MCS 8 80MHz VHT-NSS 2`` -> (702.0, 80, "ac")."""
    rate = re.match(r"\s*([\d.]+)\s*MBit/s", text, re.I)
    width_m = re.search(r"\b(\d+)\s*MHz\b", text, re.I)
    phy = None
    for marker, gen in (("EHT-MCS", "be"), ("HE-MCS", "ax"), ("VHT-MCS", "ac"), ("MCS", "n")):
        if marker in text:
            phy = gen
            break
    width = int(width_m.group(1)) if width_m else (20 if phy else None)
    return (float(rate.group(1)) if rate else None), width, phy


def parse_iw_dev(text: str) -> list[dict[str, Any]]:
    """Interfaces from ``iw dev`` or ``iw dev IF info``.

    Sample::

        Interface wlan0
                ifindex 4
                addr 40:a5:ef:46:4d:a3
                ssid Hotspot
                type managed
                channel 11 (2462 MHz), width: 40 MHz, center1: 2452 MHz
    """
    ifaces: list[dict[str, Any]] = []
    for line in _strip_comments(text):
        s = line.strip()
        m = re.match(r"^Interface (\S+)$", s)
        if m:
            ifaces.append({"interface": m.group(1)})
            continue
        if not ifaces:
            continue
        cur = ifaces[-1]
        if m := re.match(r"^ssid (.*)$", s):
            cur["ssid"] = m.group(1)
        elif m := re.match(r"^type (\S+)", s):
            cur["type"] = m.group(1)
        elif m := re.match(r"^addr (\S+)", s):
            cur["addr"] = norm_mac(m.group(1))
        elif m := re.match(r"^channel (\d+) \((\d+) MHz\)(?:, width: (\d+) MHz)?", s):
            cur["channel"], cur["frequency_mhz"] = int(m.group(1)), int(m.group(2))
            if m.group(3):
                cur["channel_width_mhz"] = int(m.group(3))
    if not ifaces:
        raise ParseError("no 'Interface' line: not an 'iw dev' output")
    return ifaces


def outcome_iw_dev(text: str) -> Outcome:
    """What ``iw dev`` says about the first station interface (or the first interface)."""
    ifaces = parse_iw_dev(text)
    chosen = next((i for i in ifaces if i.get("type") == "managed"), ifaces[0])
    link = {k: chosen.get(k) for k in ("interface", "ssid", "channel", "frequency_mhz",
                                        "channel_width_mhz")}
    missing = {"signal_dbm": "iw dev shows the configuration, not the signal"}
    if chosen.get("type") == "managed" and not chosen.get("ssid"):
        return finish("iw-dev", {"interface": chosen["interface"], "connected": False}, missing,
                      unavailable=f"{chosen['interface']} is not connected to a network")
    if chosen.get("type") == "managed":
        link["connected"] = True
    return finish("iw-dev", link, missing)


def parse_iw_link(text: str) -> Outcome:
    """The link from ``iw dev IF link``.

    Sample::

        Connected to 64:d1:54:68:93:ae (on wlp0s20f3)
                SSID: HOME5
                freq: 5280
                signal: -44 dBm
                tx bitrate: 866.7 MBit/s VHT-MCS 9 80MHz short GI VHT-NSS 2
    """
    lines = _strip_comments(text)
    body = "\n".join(lines)
    if re.search(r"^Not connected", body, re.M):
        return finish("iw-link", {"connected": False}, {}, unavailable="not connected to a network")
    head = re.search(r"^Connected to (\S+) \(on (\S+)\)", body, re.M)
    if not head:
        raise ParseError("no 'Connected to' line: not an 'iw link' output")
    missing: dict[str, str] = {}
    link = _peer(head, "BSSID", missing)
    for line in lines[1:]:
        key, _, val = line.strip().partition(":")
        val = val.strip()
        if key == "SSID":
            link["ssid"] = val
        elif key == "freq":
            link["frequency_mhz"] = float(val)
        else:
            _radio_line(key, val, link, missing)
    if "signal_dbm" not in link:
        raise ParseError("no signal line: truncated 'iw link' output")
    missing.setdefault("noise_dbm", "iw link does not report the noise floor")
    missing.setdefault("security", "iw link does not report the security")
    return finish("iw-link", link, missing)


def parse_iw_station(text: str) -> Outcome:
    """The peer from ``iw dev IF station dump`` / ``station get`` (client side: the AP).

    Sample::

        Station 00:03:7f:12:03:03 (on wlo1)
                signal:         -95 dBm
                tx bitrate:     688.2 MBit/s 40MHz EHT-MCS 13 EHT-NSS 2 EHT-GI 0
    """
    lines = _strip_comments(text)
    head = re.match(r"^Station (\S+) \(on (\S+)\)", lines[0] if lines else "")
    if not head:
        raise ParseError("no 'Station' line: not an 'iw station' output")
    missing: dict[str, str] = {}
    link = _peer(head, "MAC", missing)
    for line in lines[1:]:
        if line.startswith("Station "):
            break  # an AP's dump lists many stations: the first one is read
        key, _, val = line.strip().partition(":")
        _radio_line(key, val.strip(), link, missing)
    for key in ("ssid", "frequency_mhz", "security"):
        missing.setdefault(key, "iw station does not report it")
    return finish("iw-station", link, missing)


def _peer(head: re.Match[str], what: str, missing: dict[str, str]) -> dict[str, Any]:
    """The link as the head line of ``iw link`` / ``iw station`` names it: peer address, interface."""
    link: dict[str, Any] = {"connected": True, "interface": head.group(2), "bssid": norm_mac(head.group(1))}
    if link["bssid"] is None:
        missing["bssid"] = f"{what} masked in the output ({head.group(1)})"
    return link


def _radio_line(key: str, val: str, link: dict[str, Any], missing: dict[str, str]) -> None:
    """Signal and bit rates, read alike from ``iw link`` and ``iw station`` lines."""
    if key == "signal" and (m := re.match(r"(-?\d+)", val)):
        link["signal_dbm"] = signal_or_reason(float(m.group(1)), missing)
    elif key in ("rx bitrate", "tx bitrate"):
        rate, width, phy = _bitrate(val)
        link["rx_rate_mbps" if key.startswith("rx") else "tx_rate_mbps"] = rate
        link["channel_width_mhz"] = link.get("channel_width_mhz") or width
        link["phy"] = link.get("phy") or phy


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
    lines = _strip_comments(text)
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


def parse_proc_net_wireless(text: str) -> Outcome:
    """The first interface of ``/proc/net/wireless`` (level and noise in dBm; -256 = none).

    Sample::

        Inter-| sta-|   Quality        |   Discarded packets               | Missed | WE
         face | tus | link level noise |  nwid  crypt   frag  retry   misc | beacon | 22
        wlp2s0: 0000   63.  -47.  -256        0      0      0      0      6        0
    """
    if "Inter-|" not in text:
        raise ParseError("no 'Inter-|' header: not /proc/net/wireless")
    rows = [ln for ln in text.splitlines() if re.match(r"^\s*[^\s|]+:\s+[0-9a-f]{4}\s", ln)]
    if not rows:
        return finish("proc-net-wireless", {}, {}, unavailable="no wireless interface")
    m = re.match(r"^\s*(\S+):\s+\S+\s+(-?\d+)\.?\s+(-?\d+)\.?\s+(-?\d+)\.?", rows[0])
    if not m:
        raise ParseError(f"unreadable row {rows[0]!r}")
    missing: dict[str, str] = {
        "signal_quality_pct": "the link quality's scale is not given",
        "ssid": "/proc/net/wireless does not name the network",
    }
    level, noise = float(m.group(3)), float(m.group(4))
    link: dict[str, Any] = {"interface": m.group(1)}
    if level >= 0:
        return finish("proc-net-wireless", {**link, "connected": False}, missing,
                      unavailable=f"{m.group(1)} reports no signal (not associated)")
    link.update(connected=True, signal_dbm=level)
    if noise <= -256 or noise >= 0:
        missing["noise_dbm"] = "the driver does not report the noise floor (-256)"
    else:
        link["noise_dbm"] = noise
    return finish("proc-net-wireless", link, missing)


def parse_iwconfig(text: str) -> Outcome:
    """The first wireless interface of ``iwconfig`` (Wireless Extensions).

    Sample::

        wlan0     IEEE 802.11bgn  ESSID:"monet2.4G"
                  Mode:Managed  Frequency:2.432 GHz  Access Point: 00:26:66:C4:80:FC
                  Bit Rate=135 Mb/s   Tx-Power=20 dBm
                  Link Quality=51/70  Signal level=-59 dBm
    """
    blocks: list[list[str]] = []
    for line in _strip_comments(text):
        if line and not line[0].isspace():
            blocks.append([line])
        elif blocks and line.strip():
            blocks[-1].append(line)
    wireless = [b for b in blocks if "no wireless extensions" not in b[0]]
    if not blocks:
        raise ParseError("empty iwconfig output")
    if not wireless:
        return finish("iwconfig", {}, {}, unavailable="no wireless interface")
    if not any("ESSID" in b[0] or "802.11" in b[0] or "unassociated" in b[0] for b in wireless):
        raise ParseError("no wireless block: not an iwconfig output")
    b = wireless[0]
    whole = " ".join(b)
    iface = b[0].split()[0]
    missing: dict[str, str] = {"security": "iwconfig does not report the security",
                               "phy": "iwconfig names the interface's protocols, not the link's"}
    ap = re.search(r"Access Point: (\S+)", whole)
    if "unassociated" in b[0] or (ap and ap.group(1) == "Not-Associated"):
        return finish("iwconfig", {"interface": iface, "connected": False}, missing,
                      unavailable=f"{iface} is not associated with an access point")
    link: dict[str, Any] = {"interface": iface, "connected": True,
                            "bssid": norm_mac(ap.group(1)) if ap else None}
    if m := re.search(r'ESSID:"(.*?)"', whole):
        link["ssid"] = m.group(1)
    if m := re.search(r"Frequency[:=]([\d.]+) GHz", whole):
        link["frequency_mhz"] = float(m.group(1)) * 1000
    if m := re.search(r"Bit Rate[:=]([\d.]+) Mb/s", whole):
        link["tx_rate_mbps"] = float(m.group(1))
    if m := re.search(r"Link Quality[:=](\d+)/(\d+)", whole):
        link["signal_quality_pct"] = round(100 * int(m.group(1)) / int(m.group(2)), 1)
    if m := re.search(r"Signal level[:=](-?\d+) dBm", whole):
        link["signal_dbm"] = signal_or_reason(float(m.group(1)), missing)
    if m := re.search(r"Noise level[:=](-?\d+) dBm", whole):
        link["noise_dbm"] = signal_or_reason(float(m.group(1)), missing, "noise_dbm")
    else:
        missing["noise_dbm"] = "the driver does not report the noise floor"
    return finish("iwconfig", link, missing)
