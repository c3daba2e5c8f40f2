"""Windows: ``netsh wlan show interfaces`` and ``netsh wlan show networks [mode=bssid]``, any language.

netsh translates its labels into the UI language (``Signal``, ``Señal``,
``信号``, ``Сигнал``), pads them with spaces or non-breaking spaces and moves
some between versions. These parsers never need a label: each line's *value*
is read by its shape (a GUID, a MAC, ``42%``, ``802.11ax``, ``2,4 GHz``, ``109
(42 %)``) and by position — the interface's state follows its address, the
authentication and cipher follow the radio type (``show interfaces``) or the
SSID line (``show networks``), and the receive and transmit rates are the two
numbers just before the signal. The few translated *values* that matter are
told apart by structure (connected = a second MAC, the access point's, is
listed) and, for Personal/Enterprise, by a table of Windows' wordings: an
unknown wording leaves the kind untold (``WPA2``), never guessed.
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
    is_masked,
    mac_or_reason,
    norm_mac,
    phy_from_text,
    security_label,
)

_LINE = re.compile(r"^(\s*)(.*?)[\s\u00a0]*[:：](?:[\s\u00a0]*(.*?))?\s*$")
GUID = re.compile(r"^[0-9a-fx]{8}-[0-9a-fx]{4}-[0-9a-fx]{4}-[0-9a-fx]{4}-[0-9a-fx]{12}$", re.I)
PCT = re.compile(r"^(\d{1,3})\s*%$")
UTIL = re.compile(r"^\d+\s*\((\d{1,3})\s*%\)$")
NUM = re.compile(r"^\d+(?:[.,]\d+)?$")
BAND = re.compile(r"^\d+(?:[.,]\d+)?\s*(?:GHz|ГГц|GHZ)$", re.I)
CIPHERS = ("CCMP", "GCMP", "TKIP", "WEP", "CCMP-256", "GCMP-256", "BIP")
# Windows' wordings of the kind of a WPA network, lower-cased; an unknown one leaves the kind untold.
ENTERPRISE = ("enterprise", "entreprise", "unternehmen", "empresa", "empresarial", "aziendale",
              "企业", "企業", "エンタープライズ", "엔터프라이즈", "корпоратив", "предприят", "kurumsal",
              "podnik", "firemn", "przedsięb", "zakelijk", "onderneming", "bedrijf", "vállalati",
              "företag", "yritys", "virksomhed", "bedrift", "επιχειρ", "ארגוני", "مؤسس")
PERSONAL = ("personal", "personnel", "persönlich", "pessoal", "personale", "个人", "個人", "パーソナル",
            "개인", "личн", "персонал", "kişisel", "osobn", "osobist", "persoonlijk", "személyes",
            "privat", "henkilö", "προσωπ", "אישי", "شخص", "psk")


def _pairs(text: str) -> list[tuple[int, str, str]]:
    """(indent, label, value) for every ``label : value`` line; label and value stripped."""
    out = []
    for raw in text.replace("\r", "").splitlines():
        if re.match(r"^\s*(#|[A-Z]:\\.*>|PS [A-Z]:\\)", raw):
            continue
        m = _LINE.match(raw)
        if not m or not m.group(2).strip():
            continue
        label = m.group(2).replace("\u00a0", " ").strip()
        out.append((len(m.group(1).expandtabs(8)), label, (m.group(3) or "").replace("\u00a0", " ").strip()))
    return out


def _denied(text: str) -> str | None:
    """The reason netsh refused to answer (language-independent markers), if it did."""
    if "ms-settings:privacy-location" in text:
        return "location permission denied: netsh needs Location services on (Windows 11 24H2+)"
    if "wlansvc" in text.lower():
        return "the WLAN AutoConfig service (wlansvc) is not running"
    return None


def _macish(v: str) -> bool:
    return norm_mac(v) is not None or (is_masked(v) and ":" in v)


def security_of(auth: str, cipher: str) -> tuple[str | None, list[str]]:
    """Security label from netsh's authentication and cipher values, in any language."""
    a, c = auth.strip(), cipher.strip().upper()
    ciphers = [c] if c in CIPHERS else []
    if m := re.match(r"^(WPA\d?)(.*)$", a, re.I):
        ver, rest = m.group(1).upper(), m.group(2).strip(" -").lower()
        if not rest or rest.startswith("psk"):
            kind: bool | None = False if rest else None
        elif any(w in rest for w in ENTERPRISE):
            kind = True
        elif any(w in rest for w in PERSONAL) or rest.startswith("sae"):
            kind = False
        else:
            kind = None
        return security_label({"WPA" if ver == "WPA1" else ver}, kind), ciphers
    if a.upper().startswith("OWE"):
        return "OWE", ciphers
    if c == "WEP" or a.upper() == "WEP":
        return "WEP", ciphers
    if not a:
        return None, ciphers
    if not ciphers:
        return "open", ciphers
    return "WEP", ciphers  # "Shared" (translated) authentication with a cipher: shared-key WEP


def _blocks(pairs: list[tuple[int, str, str]]) -> list[list[tuple[int, str, str]]]:
    """One block per interface: from the line before its description to the next interface's."""
    guids = [i for i, (_, _, v) in enumerate(pairs) if GUID.match(v)]
    if not guids:
        return [pairs] if any(_macish(v) for _, _, v in pairs) else []
    starts = [max(0, g - 2) for g in guids]
    return [pairs[s:e] for s, e in zip(starts, [*starts[1:], len(pairs)], strict=True)]


def _read_block(block: list[tuple[int, str, str]]) -> dict[str, Any]:
    """One interface's values, each found by its shape and position."""
    guid = next((i for i, (_, _, v) in enumerate(block) if GUID.match(v)), None)
    out: dict[str, Any] = {"interface": block[guid - 2][2] if guid is not None and guid >= 2 else None}
    macs = [i for i, (_, _, v) in enumerate(block) if _macish(v)]
    state_i = macs[0] + 1 if macs else (guid + 2 if guid is not None else 0)
    out["state"] = next((v for _, _, v in block[state_i:state_i + 2] if v and not _macish(v)), None)
    out["connected"] = len(macs) >= 2 or (guid is None and len(macs) == 1)
    if not out["connected"]:
        return out
    b = macs[-1] if guid is not None or len(macs) > 1 else macs[0]
    out["bssid_raw"], out["bssid_i"] = block[b][2], b
    ssid = next((v for _, lbl, v in block if lbl.upper() == "SSID"), None)
    out["ssid"] = ssid if ssid is not None else (block[b - 1][2] if b >= 1 else None)
    sig = next((i for i, (_, _, v) in enumerate(block) if PCT.match(v) and i > b), None)
    out["signal_i"] = sig
    for i, (_, _, v) in enumerate(block[b + 1:], start=b + 1):
        if re.fullmatch(r"802\.11\w+", v) and "phy" not in out:
            out["phy"], out["auth_i"] = phy_from_text(v), i + 1
        elif BAND.match(v):
            out["band"] = band_from_text(v.replace("ГГц", "GHz"))
    if sig is not None:
        out["signal_quality_pct"] = float(PCT.match(block[sig][2]).group(1))  # type: ignore[union-attr]
        nums: list[str] = []
        j = sig - 1
        while j > b and NUM.match(block[j][2]):
            nums.insert(0, block[j][2])
            j -= 1
        if len(nums) >= 2:
            out["rx_rate_mbps"], out["tx_rate_mbps"] = (float(x.replace(",", ".")) for x in nums[-2:])
        if len(nums) == 3 and nums[0].isdigit():
            out["channel"] = int(nums[0])
        upto = sig - len(nums[-2:])
    else:
        upto = len(block)
    if "channel" not in out:
        out["channel"] = next((int(v) for _, _, v in block[b + 1:upto] if re.fullmatch(r"\d{1,3}", v)
                               and 1 <= int(v) <= 233), None)
    return out


def parse_netsh_interfaces(text: str) -> Outcome:
    """The connected interface of ``netsh wlan show interfaces`` (any UI language); others listed.

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
    blocks = [_read_block(b) for b in _blocks(_pairs(text))]
    if not blocks:
        if re.search(r"\b0\b", text) and not _pairs(text):
            return finish("netsh-interfaces", {}, {}, unavailable="no wireless interface")
        raise ParseError("no interface GUID or address line: not a 'netsh wlan show interfaces' output")
    ranked = sorted(blocks, key=lambda b: 0 if b["connected"] else 1)
    cur, others = ranked[0], [_other(b) for b in ranked[1:]]
    name = cur.get("interface")
    missing: dict[str, str] = {}
    base = {"interface": name, "mode": "station", "other_interfaces": others}
    if not cur["connected"]:
        why = f"{name or 'the Wi-Fi interface'} is not connected (state: {cur.get('state') or 'unknown'})"
        return finish("netsh-interfaces", {**base, "connected": False}, missing, unavailable=why)
    if "signal_quality_pct" not in cur:
        raise ParseError("connected interface without a signal line: truncated output?")
    link = {**base, "connected": True, "ssid": cur.get("ssid"),
            "bssid": mac_or_reason(cur["bssid_raw"], "BSSID", missing)}
    link.update({k: cur.get(k) for k in ("phy", "band", "channel", "signal_quality_pct",
                                         "rx_rate_mbps", "tx_rate_mbps")})
    ciphers: list[str] = []
    block = _blocks(_pairs(text))[blocks.index(cur)]
    if (ai := cur.get("auth_i")) is not None and ai + 1 < len(block):
        link["security"], ciphers = security_of(block[ai][2], block[ai + 1][2])
    else:
        missing["security"] = "no authentication line after the radio type"
    missing.update(signal_dbm="netsh gives the signal as a percentage only",
                   noise_dbm="netsh does not report the noise floor")
    return finish("netsh-interfaces", link, missing, ciphers=ciphers)


def _other(b: dict[str, Any]) -> dict[str, Any]:
    out = {"interface": b.get("interface"), "mode": "station", "connected": b["connected"],
           "ssid": b.get("ssid"), "bssid": norm_mac(b.get("bssid_raw")), "channel": b.get("channel"),
           "band": b.get("band"), "signal_quality_pct": b.get("signal_quality_pct")}
    return {k: v for k, v in out.items() if v is not None}


def parse_netsh_networks(text: str) -> list[WifiNetwork]:
    """Every network of ``netsh wlan show networks`` — one per BSSID with ``mode=bssid``, per SSID without.

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
    heads = [i for i, (ind, lbl, v) in enumerate(pairs)
             if re.search(r"\s\d+$", lbl) and not _macish(v) and ind <= min(p[0] for p in pairs)]
    if not heads:
        raise ParseError("no 'SSID n :' line: not a 'netsh wlan show networks' output")
    nets: list[WifiNetwork] = []
    for h, end in zip(heads, [*heads[1:], len(pairs)], strict=True):
        block = pairs[h + 1:end]
        bss = [i for i, (_, lbl, v) in enumerate(block) if _macish(v) and re.search(r"\d+$", lbl)]
        head = [v for _, _, v in block[:bss[0] if bss else len(block)]]
        sec = security_of(head[1], head[2])[0] if len(head) >= 3 else None
        base = {"ssid": pairs[h][2][:32], "security": sec}
        if not bss:  # listed without mode=bssid, or the driver gave no BSSID: one entry per SSID
            nets.append(complete_network(dict(base)))
            continue
        for i, stop in zip(bss, [*bss[1:], len(block)], strict=True):
            nets.append(complete_network({**base, "bssid": norm_mac(block[i][2]),
                                          **_bss_values(block[i + 1:stop])}))
    return nets


def _bss_values(lines: list[tuple[int, str, str]]) -> dict[str, Any]:
    """One BSSID's values. The station count is the bare number nested under the BSS-load line
    (indented deeper than the BSSID's own lines), never a one-value rate line (``Basic rates : 18``)."""
    cur: dict[str, Any] = {}
    base = lines[0][0] if lines else 0
    for indent, _label, v in lines:
        nested = indent > base
        if m := PCT.match(v):
            cur.setdefault("signal_quality_pct", float(m.group(1)))
        elif re.fullmatch(r"802\.11\w+", v):
            cur["phy"] = phy_from_text(v)
        elif BAND.match(v):
            cur["band"] = band_from_text(v.replace("ГГц", "GHz"))
        elif m := UTIL.match(v):
            cur["channel_utilisation_pct"] = float(m.group(1))
        elif re.fullmatch(r"\d{1,3}", v) and not nested and "channel" not in cur and 1 <= int(v) <= 233:
            cur["channel"] = int(v)
        elif re.fullmatch(r"\d+", v) and nested and "stations" not in cur \
                and "channel_utilisation_pct" not in cur:
            cur["stations"] = int(v)
    return cur


def outcome_netsh_networks(text: str) -> Outcome:
    """A scan-only reading from ``show networks`` (no link: that is ``show interfaces``)."""
    if reason := _denied(text):
        return finish("netsh-networks", {}, {}, unavailable=reason)
    nets = parse_netsh_networks(text)
    missing = {"connected": "show networks does not say which network is in use",
               "signal_dbm": "netsh gives the signal as a percentage only",
               "signal_quality_pct": "show networks does not say which network is in use",
               "noise_dbm": "netsh does not report the noise floor"}
    if nets and all(n.bssid is None for n in nets):
        missing["bssid"] = "listed without mode=bssid (or the driver gave no BSSID): one entry per SSID"
    return finish("netsh-networks", {}, missing, nets)
