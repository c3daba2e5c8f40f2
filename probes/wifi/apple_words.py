"""Words and channel forms that every macOS Wi-Fi tool shares (wdutil, airport, system_profiler).

Both the JSON and the text form of ``system_profiler`` and ``airport`` write a
channel as ``144 (40 MHz, DFS)``, ``2g11/20``, ``36,80`` or ``3,+1`` and a
security mode in words; these two readers turn them into the wire fields.
"""

from __future__ import annotations

import re
from typing import Any

from probes.wifi.common import band_from_text, security_label


def channel_fields(text: str) -> dict[str, Any]:
    """``144 (40 MHz, DFS)`` / ``2g11/20`` / ``36,80`` / ``3,+1`` / ``6 (2GHz, 20MHz)``."""
    t = str(text).strip()
    if m := re.fullmatch(r"(\d)g(\d+)/(\d+)", t):
        return {"band": {"2": "2.4GHz", "5": "5GHz", "6": "6GHz"}[m.group(1)],
                "channel": int(m.group(2)), "channel_width_mhz": int(m.group(3))}
    if m := re.fullmatch(r"(\d+),([+-]?\d+)", t):
        second = m.group(2)
        width = 40 if second in ("+1", "-1") else int(second)
        return {"channel": int(m.group(1)), "channel_width_mhz": width}
    if m := re.match(r"^(\d+)(?:\s*\((.*)\))?$", t):
        out: dict[str, Any] = {"channel": int(m.group(1))}
        inner = m.group(2) or ""
        if w := re.search(r"(\d+)\s*MHz", inner):
            out["channel_width_mhz"] = int(w.group(1))
        if band := band_from_text(inner):
            out["band"] = band
        return out
    return {}


def security_from_words(text: str) -> str | None:
    """``WPA2 Personal`` / ``wpa2-psk`` / ``spairport_security_mode_wpa2_personal`` / ``None``."""
    t = text.lower().replace("spairport_security_mode_", "").replace("_", " ").replace("-", " ")
    if t.strip() in ("none", "open"):
        return "open"
    versions = set(re.findall(r"\b(wpa\d?|wep)\b", t))
    vs = {"WPA" if v == "wpa1" else v.upper() for v in versions}
    if not vs:
        return None
    return security_label(vs, "enterprise" in t or "802.1x" in t or "eap" in t)
