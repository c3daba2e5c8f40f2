"""Shared pieces of the Wi-Fi parsers: channels and bands, MACs, security, the final outcome.

Every parser ends in :func:`finish`, which derives what follows from the values
read (band from the frequency, SNR from signal and noise, the W11 channel-plan
flag, the W12 security level) and turns "not connected" into ``unavailable``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from config.wire import ProbeStatus, WifiMeasurement, WifiNetwork
from probes.base import Outcome

MAC_RE = re.compile(r"^[0-9A-Fa-f]{1,2}(?::[0-9A-Fa-f]{1,2}){5}$")
PLAN_24GHZ = (1, 6, 11)


class ParseError(ValueError):
    """The text is not (or no longer, e.g. truncated) what the parser reads."""


MASKED_RE = re.compile(r"^(?=.*[xX*#?])[0-9A-Fa-fxX*#?]{1,2}(?:[:-][0-9A-Fa-fxX*#?]{1,2}){1,5}$"
                       r"|^<[^<>]{1,20}>$|^[xX*]{2,}$")


def is_masked(text: str | None) -> bool:
    """A value its owner hid: ``xx:xx:xx:xx:3e:41``, ``<BSSID>``, ``<redacted>``, ``xxx``."""
    return bool(text) and bool(MASKED_RE.match(text.strip()))  # type: ignore[union-attr]


def mac_or_reason(text: str | None, what: str, missing: dict[str, str], field: str = "bssid") -> str | None:
    """The address, or None with why: masked in the output, or not an address at all."""
    mac = norm_mac(text)
    if mac is None and text is not None:
        missing[field] = (f"{what} masked in the output ({text.strip()})" if is_masked(text)
                          else f"{what} unreadable ({text.strip()[:40]!r})")
    return mac


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes: wide (CJK, emoji) 2, combining marks and joiners 0."""
    import unicodedata

    width = 0
    for ch in text:
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        if 0xFE00 <= ord(ch) <= 0xFE0F:  # variation selectors
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def norm_mac(text: str | None) -> str | None:
    """``58:d9:d5:3:40:35`` -> ``58:d9:d5:03:40:35``; None for masked or absent MACs."""
    if text is None:
        return None
    text = text.strip().replace("\\:", ":")
    if not MAC_RE.match(text):
        return None
    return ":".join(part.zfill(2) for part in text.lower().split(":"))


def band_of_freq(mhz: float | None) -> str | None:
    """The band a centre frequency lies in."""
    if mhz is None:
        return None
    if 2400 <= mhz < 2500:
        return "2.4GHz"
    if 5150 <= mhz < 5925:
        return "5GHz"
    if 5925 <= mhz <= 7125:
        return "6GHz"
    return None


def channel_of_freq(mhz: float) -> int | None:
    """The IEEE channel number of a 20 MHz centre frequency (2.4, 5 and 6 GHz)."""
    f = round(mhz)
    if f == 2484:
        return 14
    if 2412 <= f <= 2472:
        return (f - 2407) // 5
    if 5955 <= f <= 7115:
        return (f - 5950) // 5
    if 5000 <= f < 5955:
        return (f - 5000) // 5
    return None


def freq_of_channel(channel: int, band: str | None) -> int | None:
    """The centre frequency of a channel in a band (band guessed from the number when None)."""
    band = band or band_of_channel(channel)
    if band == "2.4GHz":
        return 2484 if channel == 14 else (2407 + 5 * channel if 1 <= channel <= 13 else None)
    if band == "5GHz":
        return 5000 + 5 * channel if 32 <= channel <= 177 else None
    if band == "6GHz":
        return 5950 + 5 * channel if 1 <= channel <= 233 else None
    return None


def band_of_channel(channel: int) -> str | None:
    """The band of a channel number when the tool does not say (never 6 GHz: ambiguous)."""
    if 1 <= channel <= 14:
        return "2.4GHz"
    if 32 <= channel <= 177:
        return "5GHz"
    return None


def band_from_text(text: str) -> str | None:
    """``2,4 GHz`` / ``2.4 GHz`` / ``5 GHz`` / ``2GHz`` / ``6GHz`` -> the band label."""
    m = re.search(r"(\d+)(?:[.,](\d+))?\s*GHz", text.replace("\u00a0", " "), re.I)
    if not m:
        return None
    return {"2": "2.4GHz", "5": "5GHz", "6": "6GHz"}.get(m.group(1))


def phy_from_text(text: str | None) -> str | None:
    """``802.11ax`` / ``11ac`` / ``802.11a/n/ac/ax`` -> the newest generation named."""
    if not text:
        return None
    found = re.findall(r"\b(?:802\.)?11([a-z/]+)|\b(be|ax|ac|n|g|b|a)\b", text.lower())
    letters: set[str] = set()
    for grp, single in found:
        letters.update(p for p in (grp or single).split("/") if p)
    for gen in ("be", "ax", "ac", "n", "g", "a", "b"):
        if gen in letters:
            return gen
    return None


_SEC_ORDER = ("WEP", "WPA", "WPA2", "WPA3")


def security_label(versions: Iterable[str], enterprise: bool | None) -> str:
    """``{"WPA","WPA2"}``, personal -> ``WPA/WPA2-Personal``; no versions -> ``open``.

    ``enterprise=None`` (the tool's wording of the kind was not recognised)
    gives the bare versions, ``WPA2``: never a guessed Personal.
    """
    vs = [v for v in _SEC_ORDER if v in set(versions)]
    if not vs:
        return "open"
    if vs == ["WEP"]:
        return "WEP"
    vs = [v for v in vs if v != "WEP"]
    if enterprise is None:
        return "/".join(vs)
    kind = "Enterprise" if enterprise else "Personal"
    return "/".join(vs) + "-" + kind


def security_level(security: str | None, ciphers: Iterable[str] = ()) -> int | None:
    """Rank a security label for W12: 0 open, 1 WEP, 2 WPA or TKIP only, 3 WPA2/3 Personal, 4 Enterprise."""
    if security is None:
        return None
    s = security.upper()
    if s in ("OPEN", "OWE"):
        return 0
    if s == "WEP":
        return 1
    cset = {c.upper() for c in ciphers}
    tkip_only = bool(cset) and cset <= {"TKIP"}
    if not ("WPA2" in s or "WPA3" in s) or tkip_only:
        return 2
    return 4 if "ENTERPRISE" in s else 3


def signal_or_reason(value: float | None, missing: dict[str, str], field: str = "signal_dbm") -> float | None:
    """Keep a dBm reading only when plausible (a driver may print +75 dBm or 0 for "none")."""
    if value is None:
        return None
    if value >= 0 or value < -150:
        missing[field] = f"the tool printed an implausible {value:g} dBm"
        return None
    return value


def complete_network(net: dict[str, Any]) -> WifiNetwork:
    """A WifiNetwork from parsed values, deriving frequency, channel and band from each other."""
    freq, ch, band = net.get("frequency_mhz"), net.get("channel"), net.get("band")
    if freq is not None:
        freq = round(freq)
        band = band or band_of_freq(freq)
        ch = ch or channel_of_freq(freq)
    elif ch is not None:
        band = band or band_of_channel(ch)
        freq = freq_of_channel(ch, band)
    net.update(frequency_mhz=freq, channel=ch, band=band)
    return WifiNetwork(**net)


def finish(tool: str, link: dict[str, Any], missing: dict[str, str],
           neighbours: Iterable[WifiNetwork] = (), unavailable: str | None = None,
           ciphers: Iterable[str] = ()) -> Outcome:
    """The measurement and outcome from a parser's values.

    ``link`` holds WifiMeasurement fields; ``unavailable`` is the reason when
    there is no link to measure (not connected, Wi-Fi off, no permission).
    """
    nbrs = list(neighbours)
    net = complete_network({k: link.get(k) for k in
                            ("frequency_mhz", "channel", "band")})
    values = dict(link)
    values.update(frequency_mhz=net.frequency_mhz, channel=net.channel, band=net.band)
    sig, noise = values.get("signal_dbm"), values.get("noise_dbm")
    if sig is not None and noise is not None:
        values["snr_db"] = round(sig - noise, 1)
    if values.get("security") is not None:
        values["security_level"] = security_level(values["security"], ciphers)
    if values.get("band") == "2.4GHz" and values.get("channel") is not None:
        values["channel_plan_ok"] = values["channel"] in PLAN_24GHZ
    elif values.get("band") in ("5GHz", "6GHz"):
        values["channel_plan_ok"] = True
    if values.get("channel") is not None and nbrs:
        mine = norm_mac(values.get("bssid"))
        values["same_channel_networks"] = sum(
            1 for n in nbrs if n.channel == values["channel"] and n.band == values.get("band")
            and (mine is None or n.bssid != mine))
    measured = {k: v for k, v in values.items() if v is not None}
    gaps = dict(missing)
    if unavailable is not None:
        for key in ("signal_dbm", "snr_db"):
            gaps.setdefault(key, unavailable)
    else:
        if "signal_dbm" not in measured:
            gaps.setdefault("signal_dbm", f"{tool} does not report the signal in dBm")
        if "snr_db" not in measured:
            gaps.setdefault("snr_db", gaps.get("noise_dbm") or f"{tool} does not report the noise floor")
    gaps = {k: v for k, v in gaps.items() if k not in measured}
    m = WifiMeasurement(tool=tool, neighbours=nbrs, missing=gaps, **measured)
    if unavailable is not None:
        return Outcome(ProbeStatus.unavailable, m, unavailable)
    return Outcome.ok(m)
