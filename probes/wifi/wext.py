"""Linux Wireless Extensions: ``iwconfig`` and ``/proc/net/wireless``.

iwconfig prints one block per interface: a first line ``NAME  PROTOCOL
ESSID:...`` at column 0, then indented ``Key:value`` / ``Key=value`` pairs
(``iwlib.c``: ``Mode:``, ``Frequency:``, ``Access Point:``, ``Bit Rate=``,
``Link Quality=``, ``Signal level=``). In ``Mode:Master`` the ``Access
Point`` is the machine's own address: it serves a network, it is not linked
to one.
"""

from __future__ import annotations

import re
from typing import Any

from probes.base import Outcome
from probes.wifi.common import ParseError, finish, mac_or_reason, signal_or_reason
from probes.wifi.iw import strip_prompts

MODES = {"managed": "station", "master": "ap", "monitor": "monitor", "ad-hoc": "ad-hoc",
         "mesh": "mesh", "repeater": "repeater", "secondary": "secondary", "auto": None}


def _blocks(text: str) -> list[list[str]]:
    blocks: list[list[str]] = []
    for line in strip_prompts(text):
        if line and not line[0].isspace():
            blocks.append([line])
        elif blocks and line.strip():
            blocks[-1].append(line)
    return blocks


def _block(b: list[str]) -> dict[str, Any]:
    """One interface's values, each read by its iwlib key; absent keys stay absent."""
    whole = " ".join(b)
    out: dict[str, Any] = {"interface": b[0].split()[0], "whole": whole}
    if m := re.search(r"Mode:(\S+)", whole):
        out["mode_word"] = m.group(1)
        out["mode"] = MODES.get(m.group(1).lower(), m.group(1).lower())
    if m := re.search(r'ESSID:"(.*?)"(?=\s|$)', whole):
        out["ssid"] = m.group(1)
    if m := re.search(r"Access Point:\s*(\S+)", whole):
        out["ap"] = m.group(1)
    if m := re.search(r"Frequency[:=]([\d.]+) GHz", whole):
        out["frequency_mhz"] = round(float(m.group(1)) * 1000)
    out["associated"] = not ("unassociated" in b[0] or out.get("ap") == "Not-Associated"
                             or "ESSID:off/any" in b[0])
    return out


def parse_iwconfig(text: str) -> Outcome:
    """The associated interface of ``iwconfig`` (the first one when none is); the others listed.

    Sample::

        wlan0     IEEE 802.11bgn  ESSID:"monet2.4G"
                  Mode:Managed  Frequency:2.432 GHz  Access Point: 00:26:66:C4:80:FC
                  Bit Rate=135 Mb/s   Tx-Power=20 dBm
                  Link Quality=51/70  Signal level=-59 dBm
    """
    blocks = _blocks(text)
    if not blocks:
        raise ParseError("empty iwconfig output")
    wireless = [_block(b) for b in blocks if "no wireless extensions" not in b[0]]
    if not wireless:
        return finish("iwconfig", {}, {}, unavailable="no wireless interface")
    if not any(re.search(r"ESSID|802\.11|unassociated|Mode:", w["whole"]) for w in wireless):
        raise ParseError("no wireless block: not an iwconfig output")
    ranked = sorted(wireless, key=lambda w: (0 if w.get("mode") == "station" and w["associated"] else
                                             1 if w.get("mode") == "ap" else 2))
    w, others = ranked[0], [o for o in wireless if o is not ranked[0]]
    missing: dict[str, str] = {"security": "iwconfig does not report the security",
                               "phy": "iwconfig names the interface's protocols, not the link's"}
    base: dict[str, Any] = {"interface": w["interface"], "mode": w.get("mode"),
                            "other_interfaces": [_other(o) for o in others]}
    if w.get("mode") == "ap":
        return finish("iwconfig", {**base, "ssid": w.get("ssid"), "frequency_mhz": w.get("frequency_mhz")},
                      missing, unavailable=f"{w['interface']} is an access point (Mode:Master): this "
                      "machine serves a network, it is not connected to one")
    if not w["associated"]:
        return finish("iwconfig", {**base, "connected": False}, missing,
                      unavailable=f"{w['interface']} is not associated with an access point")
    link = {**base, "connected": True, "ssid": w.get("ssid"), "frequency_mhz": w.get("frequency_mhz"),
            "bssid": mac_or_reason(w.get("ap"), "Access Point address", missing)}
    _levels(w["whole"], link, missing)
    return finish("iwconfig", link, missing)


def _levels(whole: str, link: dict[str, Any], missing: dict[str, str]) -> None:
    if m := re.search(r"Bit Rate[:=]([\d.]+) Mb/s", whole):
        link["tx_rate_mbps"] = float(m.group(1))
    if (m := re.search(r"Link Quality[:=](\d+)/(\d+)", whole)) and int(m.group(2)) > 0:
        link["signal_quality_pct"] = min(100.0, round(100 * int(m.group(1)) / int(m.group(2)), 1))
    if m := re.search(r"Signal level[:=](-?\d+) dBm", whole):
        link["signal_dbm"] = signal_or_reason(float(m.group(1)), missing)
    if m := re.search(r"Noise level[:=](-?\d+) dBm", whole):
        link["noise_dbm"] = signal_or_reason(float(m.group(1)), missing, "noise_dbm")
    else:
        missing["noise_dbm"] = "the driver does not report the noise floor"


def _other(w: dict[str, Any]) -> dict[str, Any]:
    connected = w["associated"] if w.get("mode") == "station" else None
    out = {"interface": w["interface"], "mode": w.get("mode"), "connected": connected,
           "ssid": w.get("ssid") if connected or w.get("mode") == "ap" else None,
           "frequency_mhz": w.get("frequency_mhz") if connected or w.get("mode") == "ap" else None}
    return {k: v for k, v in out.items() if v is not None}


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
    quality, level, noise = float(m.group(2)), float(m.group(3)), float(m.group(4))
    link: dict[str, Any] = {"interface": m.group(1)}
    if level >= 0 and quality <= 0:
        return finish("proc-net-wireless", {**link, "connected": False}, missing,
                      unavailable=f"{m.group(1)} reports no signal (not associated)")
    if level >= 0:
        # the kernel prints a dBm level only for drivers flagging IW_QUAL_DBM; others give their
        # own relative scale (0..255, max unknown here): a link, but no dBm to report
        missing["signal_dbm"] = (f"{m.group(1)} reports a relative level ({level:g}, scale not given), "
                                 "not dBm")
        missing["noise_dbm"] = "no dBm level: the noise is on the same relative scale"
        return finish("proc-net-wireless", {**link, "connected": True}, missing)
    link.update(connected=True, signal_dbm=level)
    if noise <= -256 or noise >= 0:
        missing["noise_dbm"] = "the driver does not report the noise floor (-256)"
    else:
        link["noise_dbm"] = noise
    return finish("proc-net-wireless", link, missing)
