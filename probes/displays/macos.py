"""macOS: ``ioreg`` (the EDID on Intel Macs, the decoded attributes on Apple silicon) and ``system_profiler``.

Intel Macs: ``ioreg -lw0 -r -c IODisplay`` lists ``AppleDisplay`` (external)
and ``AppleBacklightDisplay`` (built-in) entries with ``IODisplayEDID = <hex>``.
Apple silicon: ``ioreg -lw0 -r -c AppleCLCD2`` has no raw EDID but a
``DisplayAttributes`` dictionary decoded from it (maker, name, serial, image
size) and ``"external" = Yes`` on external displays. ``system_profiler
SPDisplaysDataType`` (text or ``-json``) gives names, resolutions and the
connection type, without EDID.
"""

from __future__ import annotations

import json
import re
from typing import Any

from config.wire import DisplayConnector, DisplayReading
from probes.displays.edid import Edid, EdidError, parse_edid, pnp_letters
from probes.displays.reading import display_reading
from probes.displays.timing import Timing

_IOREG_ENTRY = re.compile(r"^[\s|]*\+-o (\S+)\s+<class (\w+)", re.M)


def _attr(blob: str, key: str) -> str | None:
    m = re.search(rf'"{key}"\s*=\s*("(?:[^"\\]|\\.)*"|[^,}}\s]+)', blob)
    return m.group(1).strip('"') if m else None


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


def _connector(transport: str | None) -> DisplayConnector | None:
    t = (transport or "").lower()
    return "HDMI" if "hdmi" in t else "DisplayPort" if "dp" in t or "displayport" in t else None


def _clcd2(blob: str) -> DisplayReading:
    """An Apple silicon ``AppleCLCD2`` entry: the attributes macOS decoded from the EDID."""
    external = _attr(blob, "external") == "Yes"
    pnp = _attr(blob, "ManufacturerID")
    e = Edid(pnp_id=pnp if pnp and re.fullmatch(r"[A-Z]{3}", pnp) else None,
             product_code=_int(_attr(blob, "ProductID")) if external else None,
             serial_number=_int(_attr(blob, "SerialNumber")), name=_attr(blob, "ProductName"),
             serial_string=_attr(blob, "AlphanumericSerialNumber"),
             year=_int(_attr(blob, "YearOfManufacture")),
             week=_int(_attr(blob, "WeekOfManufacture")),
             width_cm=_int(_attr(blob, "MaxHorizontalImageSize")) or None,
             height_cm=_int(_attr(blob, "MaxVerticalImageSize")) or None)
    if pnp and e.pnp_id is None:
        e.manufacturer_hint = "Apple" if pnp.lower() == "00-10-fa" else None  # Apple's IEEE OUI
    w = _int(_attr(blob, "NativeFormatHorizontalPixels")) or _int(_attr(blob, "DisplayWidth"))
    h = _int(_attr(blob, "NativeFormatVerticalPixels")) or _int(_attr(blob, "DisplayHeight"))
    if w and h:
        e.preferred = Timing(w, h, None)
    connector: DisplayConnector | None = (_connector(_attr(blob, "Downstream")) if external else "internal")
    return display_reading(e, source="ioreg", where="ioreg AppleCLCD2", connector=connector,
                           extra_missing={"edid_hex": "ioreg on Apple silicon shows the attributes decoded "
                                                      "from the EDID, not the EDID"})


def parse_ioreg(text: str) -> list[DisplayReading]:
    """Every display entry of ``ioreg -lw0 -r -c IODisplay`` or ``-c AppleCLCD2``.

    Sample::

        +-o AppleDisplay  <class AppleDisplay, id 0x100000deb, registered, matched, active, ...>
            {
              "IODisplayEDID" = <00ffffffffffff0010ac2340535547321f12010...>
    """
    starts = list(_IOREG_ENTRY.finditer(text))
    readings = []
    for i, m in enumerate(starts):
        blob = text[m.end():starts[i + 1].start() if i + 1 < len(starts) else len(text)]
        cls = m.group(2)
        if cls == "AppleCLCD2" and "DisplayAttributes" in blob:
            readings.append(_clcd2(blob))
            continue
        edid_hex = re.search(r'"IODisplayEDID"\s*=\s*<([0-9a-fA-F]+)>', blob)
        if edid_hex is None:
            continue
        connector: DisplayConnector | None = "internal" if "Backlight" in cls else None
        try:
            e = parse_edid(bytes.fromhex(edid_hex.group(1)))
        except (EdidError, ValueError) as exc:
            e = Edid(problems=[f"unreadable IODisplayEDID: {exc}"])
        readings.append(display_reading(e, source="ioreg", where=f"ioreg {cls}", connector=connector))
    return readings


def _sp_display(name: str, kv: dict[str, str], vendor: str | None = None,
                product: str | None = None) -> DisplayReading:
    """One display of system_profiler, text or JSON keys folded to the same words."""
    e = Edid(name=name, serial_string=(kv.get("serial") or "").strip() or None)
    if vendor and re.fullmatch(r"[0-9a-fA-F]{1,4}", vendor):
        e.pnp_id = pnp_letters(int(vendor, 16))
    if product and re.fullmatch(r"[0-9a-fA-F]{1,4}", product):
        e.product_code = int(product, 16)
    if m := re.search(r"(\d+) x (\d+)", kv.get("pixels") or kv.get("resolution", "")):
        hz = re.search(r"@ ([\d.]+) ?Hz", kv.get("resolution", ""))
        e.preferred = Timing(int(m.group(1)), int(m.group(2)), float(hz.group(1)) if hz else None)
    words = " ".join((kv.get("type", ""), kv.get("connection", ""))).lower()
    connector: DisplayConnector | None = (
        "internal" if "internal" in words or "built-in" in words or "built_in" in words
        else _connector(kv.get("connection")))
    missing = {"edid_hex": "system_profiler does not show the EDID",
               "width_cm": "system_profiler gives no size", "height_cm": "system_profiler gives no size"}
    reading = display_reading(e, source="system_profiler", where="system_profiler SPDisplaysDataType",
                              connector=connector, extra_missing=missing)
    if reading.kind == "unknown" and kv.get("television", "").lower() in ("yes", "spdisplays_yes"):
        why = (f"macOS flags '{name}' as a television, a flag it also sets on monitors fed over HDMI; "
               "without the EDID nothing else tells")
        reading = reading.model_copy(update={"kind_reason": why})
    return reading


def parse_system_profiler(text: str) -> list[DisplayReading]:
    """The ``Displays:`` sections of ``system_profiler SPDisplaysDataType`` (text).

    Sample::

          Displays:
            Color LCD:
              Display Type: Built-In Retina LCD
              Resolution: 2560 x 1600 Retina
              Connection Type: Internal
    """
    readings = []
    for section in re.finditer(r"(?m)^( +)Displays:\n((?:\1 +.*\n?|\s*\n)*)", text):
        indent = None
        current: tuple[str, dict[str, str]] | None = None
        entries: list[tuple[str, dict[str, str]]] = []
        for line in section.group(2).splitlines():
            if not line.strip():
                continue
            depth = len(line) - len(line.lstrip())
            indent = depth if indent is None else indent
            key, _, value = line.strip().partition(":")
            if depth == indent and not value.strip():
                current = (key, {})
                entries.append(current)
            elif current is not None:
                current[1][key.lower().replace("display ", "").replace(" type", "_type").strip()] = value
        for name, kv in entries:
            if "status" in kv and "no display" in kv["status"].lower():
                continue
            kv = {"resolution": kv.get("resolution", ""), "serial": kv.get("serial number", ""),
                  "type": kv.get("type", ""), "connection": kv.get("connection_type", ""),
                  "television": kv.get("television", "").strip()}
            readings.append(_sp_display(name, kv))
    return readings


def parse_system_profiler_json(text: str) -> list[DisplayReading]:
    """``system_profiler SPDisplaysDataType -json``: each GPU's ``spdisplays_ndrvs``.

    Sample::

        {"SPDisplaysDataType": [{"_name": "kHW_AppleM1Item", "spdisplays_ndrvs": [
          {"_name": "Color LCD", "_spdisplays_display-vendor-id": "610",
           "spdisplays_connection_type": "spdisplays_internal", ...}]}]}
    """
    data: Any = json.loads(text)
    readings = []
    for gpu in data.get("SPDisplaysDataType", []):
        for d in gpu.get("spdisplays_ndrvs", []) or []:
            kv = {"pixels": str(d.get("_spdisplays_pixels", "")),
                  "resolution": str(d.get("_spdisplays_resolution", "")),
                  "serial": str(d.get("spdisplays_display-serial-number", "")),
                  "type": str(d.get("spdisplays_display_type", "")),
                  "connection": str(d.get("spdisplays_connection_type", "")),
                  "television": str(d.get("spdisplays_television", ""))}
            readings.append(_sp_display(str(d.get("_name", "")) or "display", kv,
                                        d.get("_spdisplays_display-vendor-id"),
                                        d.get("_spdisplays_display-product-id")))
    return readings
