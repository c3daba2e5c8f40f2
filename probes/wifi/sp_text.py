"""macOS ``system_profiler SPAirPortDataType`` in its default text form.

The text is a tree of ``Key: value`` lines; a line ending in ``:`` with no
value opens a node (an interface ``en0:``, a section ``Current Network
Information:``, a network ``MyNet:``). Pasted copies often lose the
indentation, so the tree is rebuilt from the order of the lines, not their
columns: a network is a valueless line inside a networks section followed by
its values, and its values are read by shape — ``-52 dBm / -93 dBm``, a
channel ``36 (5GHz, 80MHz)`` or ``11,-1``, ``802.11ax``, a MAC — with the
English keys as a help for the rest (Security, Transmit Rate).
"""

from __future__ import annotations

import re
from typing import Any

from probes.base import Outcome
from probes.wifi.apple_words import channel_fields, security_from_words
from probes.wifi.common import (
    ParseError,
    complete_network,
    finish,
    is_masked,
    norm_mac,
    phy_from_text,
    signal_or_reason,
)

_KV = re.compile(r"^(\s*)([^:\t]+?):[ \t]*(.*?)\s*$")
CURRENT = ("current network information",)
OTHERS = ("other local wi-fi networks", "local wi-fi networks", "other local wireless networks")
SN = re.compile(r"^(-?\d+) dBm / (-?\d+) dBm$")


def looks_like(text: str) -> bool:
    """True for the text form (its section names or its ``Signal / Noise`` lines)."""
    return bool(re.search(r"(?m)^\s*(Current Network Information|(Other )?Local Wi-Fi Networks|"
                          r"Signal / Noise):", text)) and "SPAirPortDataType\"" not in text


def _tree(text: str) -> list[dict[str, Any]]:
    """Interfaces: {name, values, current: [networks], others: [networks]}."""
    ifaces: list[dict[str, Any]] = []
    section: str | None = None
    net: dict[str, Any] | None = None
    for raw in text.replace("\r", "").splitlines():
        m = _KV.match(raw)
        if not m:
            continue
        key, val = m.group(2).strip(), m.group(3)
        low = key.lower()
        if not val and (low in CURRENT or low in OTHERS):
            section, net = ("current" if low in CURRENT else "others"), None
            if ifaces:
                ifaces[-1].setdefault(section, [])
            continue
        if not val and section is None and re.fullmatch(r"[a-z]+\d+", key):
            ifaces.append({"name": key, "values": {}})
            continue
        if not val and section is not None and ifaces:
            if re.fullmatch(r"[a-z]+\d+", key) and _iface_follows(ifaces[-1], section):
                ifaces.append({"name": key, "values": {}})
                section, net = None, None
                continue
            net = {"_name": key, "values": []}
            ifaces[-1][section].append(net)
            continue
        if net is not None and val:
            net["values"].append((low, val))
        elif ifaces and val:
            ifaces[-1]["values"][low] = val
            section, net = None, None
    return ifaces


def _iface_follows(iface: dict[str, Any], section: str) -> bool:
    """An ``awdl0:``-like line closes the networks only once the section has networks."""
    return bool(iface.get(section))


def _network(n: dict[str, Any], missing: dict[str, str] | None = None) -> dict[str, Any]:
    """A network's values, by shape first and by (English) key for the rest."""
    out: dict[str, Any] = {"ssid": n["_name"][:32]}
    scratch: dict[str, str] = {} if missing is None else missing
    ints: list[int] = []
    for key, val in n["values"]:
        if m := SN.match(val):
            out["signal_dbm"] = signal_or_reason(float(m.group(1)), scratch)
            if float(m.group(2)) < 0:
                out["noise_dbm"] = float(m.group(2))
            else:
                scratch["noise_dbm"] = "system_profiler printed 0 dBm: noise not measured"
        elif norm_mac(val) or (is_masked(val) and ":" in val):
            out["bssid"] = norm_mac(val)
            if out["bssid"] is None:
                scratch["bssid"] = f"BSSID masked in the output ({val})"
        elif val.startswith("802.11"):
            out["phy"] = phy_from_text(val)
        elif "channel" not in out and re.fullmatch(r"(\d+)(?:,([+-]?\d+)| \((.*)\))?", val):
            out.update(channel_fields(val))
        elif key == "security" or re.search(r"\b(WPA\d?|WEP)\b|^(None|Open)$", val):
            out["security"] = security_from_words(val)
        elif re.fullmatch(r"\d+", val):
            ints.append(int(val))
            if key == "transmit rate" or (len(ints) == 1 and key != "mcs index"):
                out["tx_rate_mbps"] = float(val)
    return out


def parse_system_profiler_text(text: str) -> Outcome:
    """The Wi-Fi interface of ``system_profiler SPAirPortDataType`` (text form).

    Sample::

        Interfaces:
          en0:
            Status: Connected
            Current Network Information:
              MyNet:
                PHY Mode: 802.11ac
                Channel: 36 (5GHz, 80MHz)
                Security: WPA2 Personal
                Signal / Noise: -52 dBm / -93 dBm
                Transmit Rate: 867
            Other Local Wi-Fi Networks:
              Neighbour:
                Channel: 1 (2GHz, 20MHz)
                Signal / Noise: -70 dBm / -93 dBm
    """
    ifaces = [i for i in _tree(text) if i.get("current") is not None or i.get("others") is not None
              or "status" in i["values"] or "card type" in i["values"]]
    if not ifaces:
        raise ParseError("no Wi-Fi interface block: not a 'system_profiler SPAirPortDataType' text")
    i = next((x for x in ifaces if x.get("current")), ifaces[0])
    iface, status = i["name"], i["values"].get("status", "")
    nets = [complete_network(_network(n)) for n in i.get("others", [])]
    missing: dict[str, str] = {}
    base = {"interface": iface, "mode": "station"}
    if not i.get("current"):
        off = status.lower() == "off"
        return finish("system_profiler", {**base, "connected": False}, missing, nets,
                      unavailable="Wi-Fi is switched off" if off else
                      f"Wi-Fi is on but not connected ({status or 'no current network'})")
    link = {**base, "connected": True, **_network(i["current"][0], missing)}
    if "bssid" not in link:
        missing.setdefault("bssid", "system_profiler omits the BSSID (macOS 12 and later)")
    missing.setdefault("rx_rate_mbps", "system_profiler reports one rate (transmit)")
    return finish("system_profiler", link, missing, nets)
