"""macOS: ``wdutil info``, ``system_profiler SPAirPortDataType -json``, ``airport -I`` / ``-s``.

``airport`` is a stub since macOS 14.4 (it prints only a deprecation
warning); ``wdutil`` needs root; without location permission macOS prints
``<redacted>`` for SSID and BSSID, which is read as "not available", not as a name.
"""

from __future__ import annotations

import json
import re
from typing import Any

from config.wire import WifiNetwork
from probes.base import Outcome
from probes.wifi.apple_words import channel_fields, security_from_words
from probes.wifi.common import (
    ParseError,
    complete_network,
    finish,
    norm_mac,
    phy_from_text,
    security_label,
    signal_or_reason,
)
from probes.wifi.sp_text import parse_system_profiler_text

REDACTED = "redacted by macOS (the agent lacks location permission or root)"


def parse_wdutil(text: str) -> Outcome:
    """The WIFI section of ``sudo wdutil info``.

    Sample::

        WIFI
        ————————————————————————————————————
            Interface Name       : en1
            SSID                 : SomeSSID-5
            RSSI                 : -61 dBm
            Noise                : -96 dBm
            Tx Rate              : 324.0 Mbps
            Security             : WPA2 Personal
            PHY Mode             : 11ac
            Channel              : 144 (40 MHz, DFS)
    """
    m = re.search(r"^WIFI\s*$(.*?)(?=^[A-Z][A-Z ]+\s*$|\Z)", text, re.M | re.S)
    if not m:
        raise ParseError("no WIFI section: not a 'wdutil info' output")
    kv: dict[str, str] = {}
    for line in m.group(1).splitlines():
        if mm := re.match(r"^\s+(\S[^:]*?)\s*:\s?(.*)$", line):
            kv.setdefault(mm.group(1), mm.group(2).strip())
    if "RSSI" not in kv:
        raise ParseError("WIFI section without RSSI: truncated 'wdutil info' output?")
    missing: dict[str, str] = {}
    iface = kv.get("Interface Name")
    if kv.get("Power", "").startswith("Off"):
        return finish("wdutil", {"interface": iface, "connected": False}, missing,
                      unavailable="Wi-Fi is switched off")
    if kv.get("Op Mode") in ("None", "") or kv.get("SSID") == "None":
        return finish("wdutil", {"interface": iface, "connected": False}, missing,
                      unavailable="Wi-Fi is on but not connected to a network")
    link: dict[str, Any] = {"interface": iface, "connected": True}
    for key, field in (("SSID", "ssid"), ("BSSID", "bssid")):
        val = kv.get(key, "")
        if val == "<redacted>":
            missing[field] = REDACTED
        elif field == "bssid":
            link["bssid"] = norm_mac(val)
        else:
            link["ssid"] = val
    if r := re.match(r"(-?\d+) dBm", kv.get("RSSI", "")):
        link["signal_dbm"] = signal_or_reason(float(r.group(1)), missing)
    if n := re.match(r"(-?\d+) dBm", kv.get("Noise", "")):
        link["noise_dbm"] = signal_or_reason(float(n.group(1)), missing, "noise_dbm")
    if t := re.match(r"([\d.]+) Mbps", kv.get("Tx Rate", "")):
        link["tx_rate_mbps"] = float(t.group(1))
    if c := re.match(r"(\d+) %", kv.get("CCA", "")):
        link["channel_utilisation_pct"] = float(c.group(1))
    link["phy"] = phy_from_text(kv.get("PHY Mode"))
    link["security"] = security_from_words(kv.get("Security", ""))
    link.update(channel_fields(kv.get("Channel", "")))
    missing.setdefault("rx_rate_mbps", "wdutil reports the transmit rate only")
    return finish("wdutil", link, missing)


def _sp_network(n: dict[str, Any], missing: dict[str, str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"ssid": n.get("_name")}
    if "spairport_network_bssid" in n:
        out["bssid"] = norm_mac(n["spairport_network_bssid"])
    out.update(channel_fields(str(n.get("spairport_network_channel", ""))))
    sn = re.match(r"(-?\d+) dBm / (-?\d+) dBm", n.get("spairport_signal_noise", ""))
    scratch: dict[str, str] = {} if missing is None else missing
    if sn:
        out["signal_dbm"] = signal_or_reason(float(sn.group(1)), scratch)
        noise = float(sn.group(2))
        if noise < 0:
            out["noise_dbm"] = noise
        else:
            scratch["noise_dbm"] = "system_profiler printed 0 dBm: noise not measured"
    out["phy"] = phy_from_text(n.get("spairport_network_phymode"))
    out["security"] = security_from_words(n.get("spairport_security_mode", ""))
    return out


def parse_system_profiler(text: str) -> Outcome:
    """The Wi-Fi interface of ``system_profiler SPAirPortDataType -json`` (the text form: sp_text.py).

    Sample::

        {"SPAirPortDataType": [{"spairport_airport_interfaces": [{"_name": "en0",
          "spairport_status_information": "spairport_status_connected",
          "spairport_current_network_information": {"_name": "SSID-2",
            "spairport_network_channel": "6 (2GHz, 20MHz)", "spairport_network_rate": 144,
            "spairport_signal_noise": "-40 dBm / -97 dBm"}}]}]}
    """
    if not text.lstrip().startswith(("{", "[")):
        return parse_system_profiler_text(text)
    try:
        data = json.loads(text)
        ifaces = [i for top in data["SPAirPortDataType"]
                  for i in top.get("spairport_airport_interfaces", [])]
    except (ValueError, KeyError, TypeError) as exc:
        raise ParseError(f"not a system_profiler SPAirPortDataType -json output: {exc}") from None
    wifi = [i for i in ifaces if "spairport_status_information" in i]
    if not wifi:
        return finish("system_profiler", {}, {}, unavailable="no Wi-Fi interface")
    i = wifi[0]
    iface = i["_name"]
    status = i["spairport_status_information"].replace("spairport_status_", "")
    others = (i.get("spairport_airport_other_local_wireless_networks")
              or i.get("spairport_airport_local_wireless_networks") or [])
    nets = [complete_network(_sp_network(n)) for n in others]
    missing: dict[str, str] = {}
    if status == "off":
        return finish("system_profiler", {"interface": iface, "connected": False}, missing,
                      nets, unavailable="Wi-Fi is switched off")
    cur = i.get("spairport_current_network_information")
    if status != "connected" or not cur:
        return finish("system_profiler", {"interface": iface, "connected": False}, missing,
                      nets, unavailable=f"Wi-Fi is on but not connected ({status})")
    link = {"interface": iface, "connected": True, **_sp_network(cur, missing)}
    if "spairport_network_rate" in cur:
        link["tx_rate_mbps"] = float(cur["spairport_network_rate"])
    if "bssid" not in link:
        missing["bssid"] = "system_profiler omits the BSSID (macOS 12 and later)"
    missing.setdefault("rx_rate_mbps", "system_profiler reports one rate (transmit)")
    return finish("system_profiler", link, missing, nets)


def parse_airport_info(text: str) -> Outcome:
    """``airport -I`` (gone since macOS 14.4: the stub's warning is read as unavailable).

    Sample::

         agrCtlRSSI: -66
        agrCtlNoise: -90
         lastTxRate: 195
          link auth: wpa2-psk
              BSSID: 3c:37:86:15:ad:f9
               SSID: SnazzleDazzle
            channel: 48,80
    """
    if "airport command line tool is deprecated" in text and "agrCtlRSSI" not in text:
        return finish("airport", {}, {}, unavailable="airport is deprecated and inert since "
                      "macOS 14.4: use wdutil or system_profiler")
    kv = {m.group(1): m.group(2).strip() for m in
          re.finditer(r"^\s*([\w.][\w. ]*?):\s?(.*)$", text, re.M)}
    if "AirPort" in kv and kv["AirPort"].lower() == "off":
        return finish("airport", {"connected": False}, {}, unavailable="Wi-Fi is switched off")
    if "agrCtlRSSI" not in kv:
        raise ParseError("no agrCtlRSSI line: not an 'airport -I' output")
    if kv.get("state") != "running" or not kv.get("SSID"):
        return finish("airport", {"connected": False}, {},
                      unavailable=f"not connected (state: {kv.get('state', 'unknown')})")
    missing: dict[str, str] = {}
    link: dict[str, Any] = {"connected": True, "ssid": kv.get("SSID"),
                            "bssid": norm_mac(kv.get("BSSID"))}
    link["signal_dbm"] = signal_or_reason(float(kv["agrCtlRSSI"]), missing)
    if "agrCtlNoise" in kv:
        link["noise_dbm"] = signal_or_reason(float(kv["agrCtlNoise"]), missing, "noise_dbm")
    if kv.get("lastTxRate", "").isdigit():
        link["tx_rate_mbps"] = float(kv["lastTxRate"])
    link["security"] = security_from_words(kv.get("link auth", ""))
    link.update(channel_fields(kv.get("channel", "")))
    missing.setdefault("rx_rate_mbps", "airport reports the transmit rate only")
    missing.setdefault("interface", "airport -I does not name the interface")
    return finish("airport", link, missing)


# the columns right of the SSID have fixed shapes: the row is read from them, so an SSID whose
# bytes outnumber its characters (airport pads by bytes: "invité") cannot shift a column
_ROW = re.compile(r"^(?P<ssid>.*?)\s+(?:(?P<bssid>[0-9a-fx]{1,2}(?::[0-9a-fx]{1,2}){5})\s+)?"
                  r"(?P<rssi>-\d+)\s+(?P<chan>\d+(?:,[+-]?\d+)?)\s+(?P<ht>[YN])\s+(?P<cc>\S+)\s+"
                  r"(?P<sec>\S.*?)\s*$", re.I)


def parse_airport_scan(text: str) -> list[WifiNetwork]:
    """Networks from ``airport -s`` (an empty BSSID column means no location permission).

    Sample::

                                SSID BSSID             RSSI CHANNEL HT CC SECURITY (auth/unicast/group)
                       SnazzleDazzle 42:37:86:15:fd:b3 -62  3,+1    Y  US WPA2(PSK/AES/AES)
    """
    lines = text.splitlines()
    head = next((i for i, ln in enumerate(lines) if re.search(r"SSID BSSID\s+RSSI CHANNEL", ln)), None)
    if head is None:
        raise ParseError("no 'SSID BSSID RSSI CHANNEL' header: not an 'airport -s' output")
    nets = []
    for line in lines[head + 1:]:
        if not line.strip():
            continue
        m = _ROW.match(" " + line)
        if not m:
            raise ParseError(f"unreadable airport -s row {line!r}")
        sec = m.group("sec")
        # RSN(...) is the WPA2 element by its 802.11i name (airport's wording since macOS 12)
        versions = {"WPA2" if v.upper() == "RSN" else v.upper()
                    for v in re.findall(r"\b(WPA\d?|WEP|RSN)\(", sec, re.I)}
        label = "open" if sec.strip() == "NONE" else security_label(
            versions, "802.1x" in sec.lower()) if versions else ("WEP" if "WEP" in sec else None)
        net: dict[str, Any] = {"ssid": m.group("ssid").strip(), "bssid": norm_mac(m.group("bssid")),
                               "signal_dbm": float(m.group("rssi")), "security": label}
        net.update(channel_fields(m.group("chan")))
        nets.append(complete_network(net))
    return nets


def outcome_airport_scan(text: str) -> Outcome:
    """A scan-only reading from ``airport -s``."""
    nets = parse_airport_scan(text)
    missing = {"connected": "airport -s does not say which network is in use",
               "signal_dbm": "airport -s does not say which network is in use"}
    if nets and all(n.bssid is None for n in nets):
        masked = re.search(r"(?m)\s[0-9a-fx]{1,2}(?::[0-9a-fx]{1,2}){5}\s+-\d+\s", text, re.I)
        missing["bssid"] = ("BSSIDs masked in the output" if masked
                            else "BSSIDs withheld by macOS (no location permission)")
    return finish("airport-scan", {}, missing, nets)
