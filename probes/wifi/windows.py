"""Windows: ``netsh wlan show interfaces`` and ``netsh wlan show networks mode=bssid``.

netsh translates its labels into the UI language (``Signal``, ``Señal``;
``Channel``, ``Canal``, ``Kanal``), pads them with non-breaking spaces and
reorders some of them between versions. These parsers never read a label:
they read each line's *value* by its shape (a GUID, a MAC, ``42%``,
``802.11ax``, ``2,4 GHz``, ``109 (42 %)``) and by position (the
authentication line follows the radio type in ``show interfaces`` and the
network type in ``show networks``; the receive rate comes before the transmit
rate). The few translated *values* that matter (Open, None, connected) are
told apart by shape too: an authentication that is not ``WPA…``/``WEP`` with
no known cipher is an open network.
"""

from __future__ import annotations

import re
from typing import Any

from config.wire import WifiNetwork
from probes.base import Outcome
from probes.wifi.common import (
    ParseError,
    band_from_text,
    complete_network,
    finish,
    norm_mac,
    phy_from_text,
)

_LINE = re.compile(r"^(\s*)(.*?)[\s\u00a0]*:(?:[\s\u00a0]+(.*?))?\s*$")
GUID = re.compile(r"^[0-9a-fx]{8}-[0-9a-fx]{4}-[0-9a-fx]{4}-[0-9a-fx]{4}-[0-9a-fx]{12}$", re.I)
PCT = re.compile(r"^(\d{1,3})\s*%$")
UTIL = re.compile(r"^\d+\s*\((\d{1,3})\s*%\)$")
RATE_LABEL = re.compile(r"\(\s*mbits?/s\s*\)|\(\s*mbps\s*\)", re.I)
CIPHERS = ("CCMP", "GCMP", "TKIP", "WEP", "CCMP-256", "GCMP-256")
# Windows' wording for an interface that is not connected, in the languages we have seen.
DISCONNECTED = ("disconnected", "getrennt", "déconnecté", "desconectado", "disconnesso",
                "not connected", "nicht verbunden", "non connecté", "no conectado", "non connesso")


def _pairs(text: str) -> list[tuple[int, str, str]]:
    """(indent, label, value) for every ``label : value`` line; label and value stripped."""
    out = []
    for raw in text.replace("\r", "").splitlines():
        m = _LINE.match(raw)
        if not m or not m.group(2).strip():
            continue
        label = m.group(2).replace("\u00a0", " ").strip()
        out.append((len(m.group(1).expandtabs(8)), label, (m.group(3) or "").replace("\u00a0", " ")))
    return out


def _denied(text: str) -> str | None:
    """The reason netsh refused to answer (language-independent markers), if it did."""
    if "ms-settings:privacy-location" in text:
        return "location permission denied: netsh needs Location services on (Windows 11 24H2+)"
    if "wlansvc" in text.lower():
        return "the WLAN AutoConfig service (wlansvc) is not running"
    return None


def _security(auth: str, cipher: str) -> tuple[str, list[str]]:
    """Security label from netsh's authentication and cipher values (any language)."""
    a = auth.strip()
    c = cipher.strip().upper()
    ciphers = [c] if c in CIPHERS else []
    if m := re.match(r"^(WPA\d?)(?:-?(Personal|Enterprise|PSK))?", a, re.I):
        ver = m.group(1).upper()
        kind = "Enterprise" if (m.group(2) or "").lower() == "enterprise" else "Personal"
        return f"{ver}-{kind}", ciphers
    if a.upper() == "OWE":
        return "OWE", ciphers
    if c == "WEP" or a.upper() == "WEP":
        return "WEP", ciphers
    if not ciphers:
        return "open", ciphers
    return "WEP", ciphers  # "Shared" (translated) authentication with a cipher: shared-key WEP


def parse_netsh_interfaces(text: str) -> Outcome:
    """The first interface of ``netsh wlan show interfaces``, in any UI language.

    Sample (German)::

        Name                   : WLAN
        GUID                   : xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx
        Physische Adresse       : fe:dc:ba:09:87:01
        Status                  : Verbunden
        SSID                   : SSID-1
        AP BSSID               : fe:dc:ba:09:87:02
        Bereich                   : 5 GHz
        Kanal                : 116
        Funktyp                   : 802.11ac
        Authentifizierung   : WPA2-Enterprise
        Verschlüsselungsverfahren                 : CCMP
        Empfangsrate (MBit/s)  : 300
        Übertragungsrate (MBit/s) : 300
        Signal              : 43%
    """
    if reason := _denied(text):
        return finish("netsh-interfaces", {}, {}, unavailable=reason)
    pairs = _pairs(text)
    start = next((i for i, (_, _, v) in enumerate(pairs) if GUID.match(v.strip())), None)
    if start is None:
        if re.search(r"\b0\b", text) and not pairs:
            return finish("netsh-interfaces", {}, {}, unavailable="no wireless interface")
        raise ParseError("no interface GUID line: not a 'netsh wlan show interfaces' output")
    name = pairs[start - 2][2].strip() if start >= 2 else None
    block = pairs[start + 1:]
    # the next interface's GUID ends this one
    end = next((i for i, (_, _, v) in enumerate(block) if GUID.match(v.strip())), len(block))
    block = block[:end]
    macs = [(i, v.strip()) for i, (_, _, v) in enumerate(block) if norm_mac(v)]
    link: dict[str, Any] = {"interface": name}
    missing: dict[str, str] = {}
    state_i = (macs[0][0] + 1) if macs else 0
    # a localised "interface type" line (Primaire, Primär) may sit between address and state
    states = [v.strip() for _, _, v in block[state_i:state_i + 2]]
    if len(macs) < 2:
        state = next((s for s in states if s), "")
        why = f"{name or 'the Wi-Fi interface'} is not connected (state: {state or 'unknown'})"
        if not any(s.lower() in DISCONNECTED for s in states):
            why += "; it may also be switched off"
        return finish("netsh-interfaces", {"interface": name, "connected": False}, missing,
                      unavailable=why)
    bssid_i = macs[1][0]
    link.update(connected=True, bssid=norm_mac(macs[1][1]))
    ssid_label = next((v for _, lbl, v in block if lbl == "SSID"), None)
    link["ssid"] = ssid_label if ssid_label is not None else block[bssid_i - 1][2]
    ints: list[int] = []
    rates: list[float] = []
    auth_i = None
    for i, (_, label, value) in enumerate(block):
        v = value.strip()
        if m := PCT.match(v):
            link.setdefault("signal_quality_pct", float(m.group(1)))
        elif re.fullmatch(r"802\.11\w+", v):
            link["phy"] = phy_from_text(v)
            auth_i = i + 1
        elif re.fullmatch(r"\d+(?:[.,]\d+)?\s*GHz", v):
            link["band"] = band_from_text(v)
        elif re.fullmatch(r"\d+(?:[.,]\d+)?", v) and RATE_LABEL.search(label):
            rates.append(float(v.replace(",", ".")))
        elif re.fullmatch(r"\d{1,3}", v) and i > bssid_i:
            ints.append(int(v))
    if auth_i is not None and auth_i + 1 < len(block):
        sec, ciphers = _security(block[auth_i][2], block[auth_i + 1][2])
        link["security"] = sec
    else:
        ciphers = []
        missing["security"] = "no authentication line after the radio type"
    if ints:
        link["channel"] = ints[0]
    if len(rates) >= 2:
        link["rx_rate_mbps"], link["tx_rate_mbps"] = rates[0], rates[1]
    if "signal_quality_pct" not in link:
        raise ParseError("connected interface without a signal line: truncated output?")
    missing.update(signal_dbm="netsh gives the signal as a percentage only",
                   noise_dbm="netsh does not report the noise floor")
    return finish("netsh-interfaces", link, missing, ciphers=ciphers)


def parse_netsh_networks(text: str) -> list[WifiNetwork]:
    """Every BSSID of ``netsh wlan show networks mode=bssid``, in any UI language.

    Sample (Spanish)::

        SSID 1 : SSID-1
           Tipo de red             : Infraestructura
           Autenticación           : Abierta
           Cifrado                 : Ninguna
           BSSID 1                 : fe:dc:ba:09:87:01
                Señal             : 53%
                Tipo de radio         : 802.11ax
                Banda               : 5 GHz
                Canal            : 149
                Carga Bss:
                    Uso del canal:          1 (0 %)
    """
    pairs = _pairs(text)
    nets: list[WifiNetwork] = []
    ssid: str | None = None
    sec: str | None = None
    seen_ssid = False
    cur: dict[str, Any] | None = None
    i = 0
    while i < len(pairs):
        indent, label, value = pairs[i]
        v = value.strip()
        if indent == 0 and re.search(r"\s\d+$", label) and not norm_mac(v):
            if cur:
                nets.append(complete_network(cur))
                cur = None
            seen_ssid = True
            ssid = value.strip()
            # network type, authentication, cipher follow the SSID line
            nxt = [p[2] for p in pairs[i + 1:i + 4]]
            sec = _security(nxt[1], nxt[2])[0] if len(nxt) == 3 else None
            i += 1
            continue
        if norm_mac(v) and re.search(r"\d+$", label) and seen_ssid:
            if cur:
                nets.append(complete_network(cur))
            cur = {"ssid": ssid, "bssid": norm_mac(v), "security": sec}
        elif cur is not None:
            if m := PCT.match(v):
                cur.setdefault("signal_quality_pct", float(m.group(1)))
            elif re.fullmatch(r"802\.11\w+", v):
                cur["phy"] = phy_from_text(v)
            elif re.fullmatch(r"\d+(?:[.,]\d+)?\s*GHz", v):
                cur["band"] = band_from_text(v)
            elif m := UTIL.match(v):
                cur["channel_utilisation_pct"] = float(m.group(1))
            elif re.fullmatch(r"\d{1,3}", v) and "channel" not in cur and not RATE_LABEL.search(label):
                cur["channel"] = int(v)
            elif re.fullmatch(r"\d+", v) and "channel" in cur and "stations" not in cur \
                    and indent > 8 and "channel_utilisation_pct" not in cur:
                cur["stations"] = int(v)
        i += 1
    if cur:
        nets.append(complete_network(cur))
    if not seen_ssid and not nets:
        raise ParseError("no 'SSID n :' line: not a 'netsh wlan show networks' output")
    return nets


def outcome_netsh_networks(text: str) -> Outcome:
    """A scan-only reading from ``show networks mode=bssid`` (no link: that is ``show interfaces``)."""
    if reason := _denied(text):
        return finish("netsh-networks", {}, {}, unavailable=reason)
    nets = parse_netsh_networks(text)
    missing = {"connected": "show networks does not say which network is in use",
               "signal_dbm": "netsh gives the signal as a percentage only",
               "signal_quality_pct": "show networks does not say which network is in use",
               "noise_dbm": "netsh does not report the noise floor"}
    return finish("netsh-networks", {}, missing, nets)
