"""The air itself: 802.11 beacons and probe responses from a capture (scapy).

Each BSS heard gives one WifiNetwork: SSID, BSSID, channel (DS parameter set,
or the radiotap frequency), signal (radiotap antenna signal, strongest frame
kept) and security (RSN / WPA elements, the privacy bit). Frames sent by the
capturing station itself carry no antenna signal: the signal stays None.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from config.wire import WifiNetwork
from probes.base import Outcome
from probes.wifi.common import ParseError, complete_network, finish, norm_mac, security_label

log = logging.getLogger(__name__)

_AKM_ENTERPRISE = {1, 3, 5, 11, 12, 13}  # 802.1X suites (IEEE 802.11-2020 table 9-151)
_AKM_SAE = {8, 9, 24, 25}


def _rsn_security(elt: Any) -> tuple[set[str], bool]:
    """Versions and enterprise flag from an RSN element's AKM suites."""
    akms = {s.suite for s in getattr(elt, "akm_suites", [])}
    versions = set()
    if akms & _AKM_SAE:
        versions.add("WPA3")
    if akms - _AKM_SAE or not akms:
        versions.add("WPA2")
    return versions, bool(akms & _AKM_ENTERPRISE)


def _frame_network(pkt: Any) -> dict[str, Any]:
    from scapy.layers.dot11 import (  # heavy import, only when a capture is read
        Dot11,
        Dot11Beacon,
        Dot11Elt,
        Dot11EltRSN,
        Dot11ProbeResp,
        RadioTap,
    )

    body = pkt.getlayer(Dot11Beacon) or pkt.getlayer(Dot11ProbeResp)
    net: dict[str, Any] = {"bssid": norm_mac(pkt[Dot11].addr3)}
    versions: set[str] = set()
    enterprise = False
    elt = pkt.getlayer(Dot11Elt)
    while isinstance(elt, Dot11Elt):
        if elt.ID == 0 and "ssid" not in net:
            raw = bytes(elt.info or b"")
            net["ssid"] = "" if raw.strip(b"\x00") == b"" else raw.decode("utf-8", "replace")
        elif elt.ID == 3 and elt.info:
            net["channel"] = elt.info[0]
        elif isinstance(elt, Dot11EltRSN):
            v, ent = _rsn_security(elt)
            versions |= v
            enterprise = enterprise or ent
        elif elt.ID == 221 and bytes(elt.info or b"")[:4] == b"\x00\x50\xf2\x01":
            versions.add("WPA")
        elt = elt.payload.getlayer(Dot11Elt)
    privacy = "privacy" in str(body.cap)
    net["security"] = security_label(versions, enterprise) if versions else (
        "WEP" if privacy else "open")
    if pkt.haslayer(RadioTap):
        rt = pkt[RadioTap]
        if getattr(rt, "dBm_AntSignal", None) is not None:
            net["signal_dbm"] = float(rt.dBm_AntSignal)
        if getattr(rt, "dBm_AntNoise", None) is not None:
            net["noise_dbm"] = float(rt.dBm_AntNoise)
        if getattr(rt, "ChannelFrequency", None):
            net["frequency_mhz"] = int(rt.ChannelFrequency)
    return net


def networks_from_packets(packets: Any) -> list[WifiNetwork]:
    """One WifiNetwork per BSSID seen in beacons or probe responses (strongest signal kept)."""
    from scapy.layers.dot11 import Dot11Beacon, Dot11ProbeResp

    seen: dict[str, dict[str, Any]] = {}
    for pkt in packets:
        if not (pkt.haslayer(Dot11Beacon) or pkt.haslayer(Dot11ProbeResp)):
            continue
        net = _frame_network(pkt)
        key = net.get("bssid") or f"?{len(seen)}"
        old = seen.get(key)
        if old is None or (net.get("signal_dbm") or -999) > (old.get("signal_dbm") or -999):
            seen[key] = net
    return [complete_network(n) for n in seen.values()]


def parse_pcap(path: Path) -> Outcome:
    """Networks heard in a pcap/pcapng file; ``unavailable`` when it holds none."""
    import scapy.layers.dot11  # noqa: F401 - registers the radiotap/802.11 link types
    from scapy.error import Scapy_Exception
    from scapy.utils import rdpcap

    try:
        packets = rdpcap(str(path))
    except (Scapy_Exception, OSError, EOFError, ValueError) as exc:
        raise ParseError(f"cannot read {path.name} as a capture: {exc}") from None
    nets = networks_from_packets(packets)
    missing = {"connected": "a capture shows the air, not this machine's link",
               "signal_dbm": "a capture shows the air, not this machine's link"}
    if not nets:
        return finish("pcap", {}, missing, unavailable=f"no beacon or probe response among "
                      f"the {len(packets)} frames of {path.name}")
    return finish("pcap", {}, missing, nets)
