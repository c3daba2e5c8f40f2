"""Linux ``iw``: ``iw dev`` (interfaces), ``iw dev IF link`` (the link, multi-link included), ``station``.

iw's layout is fixed by its source (``interface.c``, ``link.c``, ``station.c``):
a head line (``Interface NAME``, ``Connected to ADDR (on IF)``, ``Station ADDR
(on IF)``) and indented ``key value`` / ``key: value`` lines under it. A
Wi-Fi 7 multi-link connection prints ``Connected to MLD-ADDR``, one ``Link N
BSSID ADDR`` with its own ``freq:`` per link, then ``MLD ADDR stats:``.
"""

from __future__ import annotations

import re
from typing import Any

from probes.base import Outcome
from probes.wifi.common import (
    ParseError,
    band_of_freq,
    channel_of_freq,
    finish,
    mac_or_reason,
    norm_mac,
    signal_or_reason,
)

MODES = {"managed": "station", "ap": "ap", "ap/vlan": "ap", "p2p-go": "ap", "p2p-client": "station",
         "monitor": "monitor", "ibss": "ad-hoc", "mesh point": "mesh", "p2p-device": "p2p-device",
         "ocb": "ocb", "nan": "nan"}
_CHANNEL = re.compile(r"^channel (\d+) \((\d+)(?:\.\d+)? MHz\)(?:, width: (\d+) MHz)?")
# the widest channel a band allows: a rate's width rules out a link on a narrower band
BAND_MAX_WIDTH = {"2.4GHz": 40, "5GHz": 160, "6GHz": 320}


def strip_prompts(text: str) -> list[str]:
    """Lines, without the prompt/comment lines people paste above an output."""
    return [ln for ln in text.replace("\r", "").splitlines()
            if not re.match(r"^\s*(#|//|\$ |\S+@\S+[:~].*[$#] |> ?$)", ln)]


def parse_iw_dev(text: str) -> list[dict[str, Any]]:
    """Interfaces from ``iw dev`` or ``iw dev IF info``, multi-link (MLD) links included.

    Sample::

        phy#0
                Interface wlan0
                        addr 40:a5:ef:46:4d:a3
                        ssid Hotspot
                        type managed
                        channel 11 (2462 MHz), width: 40 MHz, center1: 2452 MHz
    """
    ifaces: list[dict[str, Any]] = []
    link: dict[str, Any] | None = None
    for line in strip_prompts(text):
        s = line.strip()
        if m := re.match(r"^Interface (\S+)$", s):
            ifaces.append({"interface": m.group(1)})
            link = None
        elif s == "Unnamed/non-netdev interface":
            ifaces.append({"interface": None})
            link = None
        elif not ifaces:
            continue
        elif m := re.match(r"^- link ID\s+(\d+) link addr (\S+)", s):
            link = {"link_id": int(m.group(1)), "addr": norm_mac(m.group(2))}
            ifaces[-1].setdefault("links", []).append(link)
        elif m := _CHANNEL.match(s):
            target = link if link is not None else ifaces[-1]
            target["channel"], target["frequency_mhz"] = int(m.group(1)), int(m.group(2))
            if m.group(3):
                target["channel_width_mhz"] = int(m.group(3))
        else:
            _iface_line(s, ifaces[-1])
    if not ifaces:
        raise ParseError("no 'Interface' line: not an 'iw dev' output")
    return ifaces


def _iface_line(s: str, cur: dict[str, Any]) -> None:
    if m := re.match(r"^ssid (.*)$", s):
        cur["ssid"] = m.group(1)
    elif m := re.match(r"^type (.+)$", s):
        cur["type"] = m.group(1).strip()
        cur["mode"] = MODES.get(cur["type"].lower(), cur["type"].lower())
    elif m := re.match(r"^addr (\S+)", s):
        cur["addr"] = norm_mac(m.group(1))


def choose_interface(ifaces: list[dict[str, Any]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The interface to report (a connected station first, wherever it is listed) and the others."""
    netdevs = [i for i in ifaces if i.get("interface")] or ifaces
    ranked = sorted(netdevs, key=lambda i: (
        0 if i.get("mode") == "station" and _associated(i) else
        1 if i.get("mode") == "station" else 2 if i.get("mode") == "ap" else 3))
    chosen = ranked[0]
    return chosen, [i for i in netdevs if i is not chosen and i.get("mode") != "p2p-device"]


def _associated(i: dict[str, Any]) -> bool:
    """A station with an ssid, or a channel (iw prints it only once associated; old iw had no ssid line)."""
    return bool(i.get("ssid") or i.get("channel") or any(lk.get("channel") for lk in i.get("links", [])))


def other_state(i: dict[str, Any]) -> dict[str, Any]:
    """An interface dict as a ``WifiInterfaceState`` value."""
    freq = i.get("frequency_mhz")
    connected = _associated(i) if i.get("mode") == "station" else None
    return {k: v for k, v in {
        "interface": i.get("interface"), "mode": i.get("mode"), "connected": connected,
        "ssid": i.get("ssid"), "bssid": i.get("bssid"), "frequency_mhz": freq,
        "channel": i.get("channel") or (channel_of_freq(freq) if freq else None),
        "band": band_of_freq(freq), "channel_width_mhz": i.get("channel_width_mhz"),
        "signal_dbm": i.get("signal_dbm")}.items() if v is not None}


def outcome_iw_dev(text: str) -> Outcome:
    """What ``iw dev`` says: the connected station interface wins; the others are listed."""
    chosen, others = choose_interface(parse_iw_dev(text))
    name, mode = chosen.get("interface"), chosen.get("mode")
    base: dict[str, Any] = {"interface": name, "mode": mode,
                            "other_interfaces": [other_state(o) for o in others]}
    missing = {"signal_dbm": "iw dev shows the configuration, not the signal"}
    links = [_dev_link(lk) for lk in chosen.get("links", [])]
    active = [lk for lk in links if lk.get("in_use")]
    where = active[0] if len(active) == 1 else chosen
    radio = {k: where.get(k) for k in ("channel", "frequency_mhz", "channel_width_mhz")}
    if links:
        base["links"] = links
    if mode == "ap":
        return finish("iw-dev", {**base, "ssid": chosen.get("ssid"), **radio}, missing,
                      unavailable=f"{name} is an access point (type {chosen.get('type')}): this machine "
                      "serves a network, it is not connected to one")
    if mode == "station" and not _associated(chosen):
        return finish("iw-dev", {**base, "connected": False}, missing,
                      unavailable=f"{name} is not connected to a network")
    if mode != "station":
        return finish("iw-dev", base, missing,
                      unavailable=f"{name} is in {chosen.get('type') or 'an unknown'} mode, not a station")
    if not chosen.get("ssid"):
        missing["ssid"] = "this iw dev output names no ssid"
    return finish("iw-dev", {**base, "connected": True, "ssid": chosen.get("ssid"), **radio}, missing)


def _dev_link(lk: dict[str, Any]) -> dict[str, Any]:
    out = {"link_id": lk["link_id"], "frequency_mhz": lk.get("frequency_mhz"), "channel": lk.get("channel"),
           "band": band_of_freq(lk.get("frequency_mhz")), "channel_width_mhz": lk.get("channel_width_mhz")}
    # iw dev prints a channel only under the links set up on the radio
    out["in_use"] = True if lk.get("channel") else None
    return {k: v for k, v in out.items() if v is not None}


def _bitrate(text: str) -> tuple[float | None, int | None, str | None]:
    """``702.0 MBit/s VHT-MCS 8 80MHz VHT-NSS 2`` -> (702.0, 80, "ac").

    iw names the width only when it is not 20 MHz (``40MHz``, ``80MHz``,
    ``160MHz``, ``320MHz`` flags in station.c), so an MCS rate without one is 20 MHz.
    """
    rate = re.match(r"\s*([\d.]+)\s*MBit/s", text, re.I)
    width_m = re.search(r"\b(\d+)\s*MHz\b", text, re.I)
    phy = None
    for marker, gen in (("EHT-MCS", "be"), ("HE-MCS", "ax"), ("VHT-MCS", "ac"), ("MCS", "n")):
        if marker in text:
            phy = gen
            break
    width = int(width_m.group(1)) if width_m else (20 if phy else None)
    return (float(rate.group(1)) if rate else None), width, phy


def _radio_line(key: str, val: str, link: dict[str, Any], missing: dict[str, str]) -> None:
    """Signal and bit rates, read alike from ``iw link`` and ``iw station`` lines."""
    if key == "signal" and (m := re.match(r"(-?\d+)", val)):
        link["signal_dbm"] = signal_or_reason(float(m.group(1)), missing)
    elif key in ("rx bitrate", "tx bitrate"):
        rate, width, phy = _bitrate(val)
        link["rx_rate_mbps" if key.startswith("rx") else "tx_rate_mbps"] = rate
        link["channel_width_mhz"] = link.get("channel_width_mhz") or width
        link["phy"] = link.get("phy") or phy


def parse_iw_link(text: str) -> Outcome:
    """The link from ``iw dev IF link``; for a multi-link connection, the link in use.

    Sample (multi-link)::

        Connected to 06:28:aa:6e:40:58 (on wlx90de80c6f58c)
                SSID: BT8_MLO
                Link 0 BSSID ce:28:aa:5e:40:58
                        freq: 2427.0
                Link 1 BSSID ce:28:aa:4e:40:59
                        freq: 5180.0
        MLD 06:28:aa:6e:40:58 stats:
                signal: -44 dBm
                tx bitrate: 1296.7 MBit/s 80MHz EHT-MCS 12 EHT-NSS 2 EHT-GI 0
    """
    lines = strip_prompts(text)
    if any(re.match(r"^Not connected", ln) for ln in lines):
        return finish("iw-link", {"connected": False, "mode": "station"}, {},
                      unavailable="not connected to a network")
    start = next((i for i, ln in enumerate(lines) if re.match(r"^Connected to \S+ \(on \S+\)", ln)), None)
    if start is None:
        raise ParseError("no 'Connected to' line: not an 'iw link' output")
    head = re.match(r"^Connected to (\S+) \(on (\S+)\)", lines[start])
    assert head is not None
    missing: dict[str, str] = {}
    link: dict[str, Any] = {"connected": True, "mode": "station", "interface": head.group(2)}
    links: list[dict[str, Any]] = []
    for line in lines[start + 1:]:
        s = line.strip()
        if m := re.match(r"^Link (\d+) BSSID (\S+)", s):
            links.append({"link_id": int(m.group(1)), "bssid": norm_mac(m.group(2))})
            continue
        key, _, val = s.partition(":")
        val = val.strip()
        if key == "SSID":
            link["ssid"] = val
        elif key == "freq" and re.fullmatch(r"\d+(?:\.\d+)?", val):
            (links[-1] if links else link)["frequency_mhz"] = round(float(val))
        else:
            _radio_line(key, val, link, missing)
    if "signal_dbm" not in link and "signal_dbm" not in missing:
        raise ParseError("no signal line: truncated 'iw link' output")
    if links:
        _choose_mlo_link(head.group(1), links, link, missing)
    else:
        link["bssid"] = mac_or_reason(head.group(1), "BSSID", missing)
    missing.setdefault("noise_dbm", "iw link does not report the noise floor")
    missing.setdefault("security", "iw link does not report the security")
    return finish("iw-link", link, missing)


def _choose_mlo_link(mld: str, links: list[dict[str, Any]], link: dict[str, Any],
                     missing: dict[str, str]) -> None:
    """The link in use of a multi-link connection, from what the stats' rate says of its width.

    A rate 80 MHz wide cannot be on a 2.4 GHz link, nor 320 MHz off 6 GHz; when
    more than one link remains, none is chosen and no link's values are mixed in.
    """
    link["mld_address"] = mac_or_reason(mld, "MLD address", missing, "mld_address")
    width = link.pop("channel_width_mhz", None)
    for lk in links:
        freq = lk.get("frequency_mhz")
        lk["band"] = band_of_freq(freq)
        lk["channel"] = channel_of_freq(freq) if freq else None
    fits = [lk for lk in links if width is None or lk["band"] is None
            or width <= BAND_MAX_WIDTH.get(lk["band"], 0)]
    if len(fits) == 1:
        chosen = fits[0]
        chosen.update(in_use=True, channel_width_mhz=width)
        link.update(bssid=chosen["bssid"], frequency_mhz=chosen.get("frequency_mhz"), channel_width_mhz=width)
    else:
        why = (f"multi-link connection over {len(links)} links: iw link does not say which one "
               "carries the traffic (each is in links)")
        for key in ("bssid", "frequency_mhz", "channel", "channel_width_mhz"):
            missing[key] = why
    link["links"] = [{k: v for k, v in lk.items() if v is not None} for lk in links]


def parse_iw_station(text: str) -> Outcome:
    """The peer from ``iw dev IF station dump`` / ``station get`` (client side: the AP).

    Sample::

        Station 00:03:7f:12:03:03 (on wlo1)
                signal:         -95 dBm
                tx bitrate:     688.2 MBit/s 40MHz EHT-MCS 13 EHT-NSS 2 EHT-GI 0
    """
    lines = strip_prompts(text)
    heads = [m for ln in lines if (m := re.match(r"^Station (\S+) \(on (\S+)\)", ln))]
    if not heads:
        raise ParseError("no 'Station' line: not an 'iw station' output")
    if len(heads) > 1:
        # a client has one peer, its AP (an MLO link too): several stations are an AP's clients
        return finish("iw-station", {"interface": heads[0].group(2), "mode": "ap"}, {},
                      unavailable=f"{len(heads)} stations are listed on {heads[0].group(2)}: it serves "
                                  "them as an access point, it has no link to an AP of its own")
    head = heads[0]
    start = lines.index(head.string)
    missing: dict[str, str] = {}
    link: dict[str, Any] = {"connected": True, "interface": head.group(2),
                            "bssid": mac_or_reason(head.group(1), "MAC", missing)}
    for line in lines[start + 1:]:
        key, _, val = line.strip().partition(":")
        _radio_line(key, val.strip(), link, missing)
    for key in ("ssid", "frequency_mhz", "security"):
        missing.setdefault(key, "iw station does not report it")
    return finish("iw-station", link, missing)
