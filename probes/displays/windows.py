"""Windows: WMI's ``WmiMonitorID`` and ``WmiMonitorConnectionParams``, and the EDID kept in the registry.

The agent runs one PowerShell script (:data:`SCRIPT`) that joins, per active
monitor, the WMI identity, the connection's ``VideoOutputTechnology`` and the
EDID bytes of ``HKLM\\SYSTEM\\CurrentControlSet\\Enum\\<instance>\\Device
Parameters\\EDID``, and prints them as JSON. Saved outputs of the plain
commands are read too: ``Get-WmiObject``/``Get-CimInstance`` list formatting
(which cuts the name arrays to four values) and ``reg query ... /s /v EDID``
(which lists every monitor ever attached, not only the current ones).
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from config.wire import DisplayConnector, DisplayReading
from probes.displays.edid import Edid, EdidError, hex_bytes, parse_edid
from probes.displays.reading import display_reading

# D3DKMDT_VIDEO_OUTPUT_TECHNOLOGY (d3dkmdt.h), as WmiMonitorConnectionParams reports it (uint32).
OUTPUT_TECHNOLOGY: dict[int, DisplayConnector] = {
    0: "VGA", 4: "DVI", 5: "HDMI", 6: "internal", 10: "DisplayPort", 11: "internal", 12: "other",
    13: "internal", 1: "other", 2: "other", 3: "other", 8: "other", 9: "other", 14: "other", 15: "other",
    16: "other", 17: "other", 0x80000000: "internal",
}

SCRIPT = r"""
$ErrorActionPreference = 'SilentlyContinue'
$conn = @{}
Get-CimInstance -Namespace root\wmi -ClassName WmiMonitorConnectionParams |
  ForEach-Object { $conn[$_.InstanceName] = $_.VideoOutputTechnology }
$out = foreach ($m in @(Get-CimInstance -Namespace root\wmi -ClassName WmiMonitorID)) {
  $key = 'HKLM:\SYSTEM\CurrentControlSet\Enum\' + ($m.InstanceName -replace '_\d+$', '') +
    '\Device Parameters'
  $edid = (Get-ItemProperty -LiteralPath $key -Name EDID).EDID
  [pscustomobject]@{
    InstanceName = $m.InstanceName; Active = $m.Active
    ManufacturerName = $m.ManufacturerName; ProductCodeID = $m.ProductCodeID
    SerialNumberID = $m.SerialNumberID; UserFriendlyName = $m.UserFriendlyName
    WeekOfManufacture = $m.WeekOfManufacture; YearOfManufacture = $m.YearOfManufacture
    VideoOutputTechnology = $conn[$m.InstanceName]
    EDID = $(if ($edid) { ($edid | ForEach-Object { $_.ToString('x2') }) -join '' } else { $null })
  }
}
ConvertTo-Json -InputObject @($out) -Depth 3 -Compress
""".strip()


def argv() -> list[str]:
    """The PowerShell command that prints :data:`SCRIPT`'s JSON.

    The script goes as ``-EncodedCommand`` (base64 of its UTF-16LE text), so no
    quoting of the Windows command line can change it. Needs PowerShell 3 or
    later (Get-CimInstance, ConvertTo-Json): Windows 8 / Server 2012 and up.
    """
    encoded = base64.b64encode(SCRIPT.encode("utf-16-le")).decode("ascii")
    return ["powershell.exe", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass",
            "-EncodedCommand", encoded]


def _chars(codes: Any) -> str | None:
    """A WMI uint16 array (``[68, 69, 76, 0]``) as text, NULs dropped."""
    if not isinstance(codes, list):
        return None
    text = "".join(chr(c) for c in codes if isinstance(c, int) and 0 < c < 0x110000).strip()
    return text or None


def _technology(value: Any) -> DisplayConnector | None:
    try:
        return OUTPUT_TECHNOLOGY.get(int(value) & 0xFFFFFFFF)
    except (TypeError, ValueError):
        return None


def _from_wmi(m: dict[str, Any]) -> tuple[Edid, dict[str, str]]:
    """The identity WMI gives when no EDID bytes came with it."""
    instance = str(m.get("InstanceName") or "")
    pnp = _chars(m.get("ManufacturerName"))
    product = _chars(m.get("ProductCodeID"))
    if ids := re.match(r"DISPLAY\\([A-Z@]{3})([0-9A-Fa-f]{4})\\", instance):
        pnp, product = pnp or ids.group(1), product or ids.group(2)
    e = Edid(pnp_id=pnp, name=_chars(m.get("UserFriendlyName")),
             serial_string=_chars(m.get("SerialNumberID")))
    if product and re.fullmatch(r"[0-9A-Fa-f]{4}", product):
        e.product_code = int(product, 16)
    year, week = m.get("YearOfManufacture"), m.get("WeekOfManufacture")
    e.year = year if isinstance(year, int) and year >= 1990 else None
    e.week = week if isinstance(week, int) and 1 <= week <= 54 else None
    no_size = "WMI's monitor identity gives no size"
    return e, {"edid_hex": "no EDID bytes found in the registry for this monitor",
               "width_cm": no_size, "height_cm": no_size}


def parse_wmi_json(text: str) -> list[DisplayReading]:
    """The JSON :data:`SCRIPT` prints: one object per monitor WMI knows, active ones kept.

    Sample::

        [{"InstanceName":"DISPLAY\\DELA0B8\\5&2f3b3a9&0&UID4352_0","Active":true,
          "ManufacturerName":[68,69,76,0],"VideoOutputTechnology":10,"EDID":"00ffffffffffff0010ac..."}]
    """
    data = json.loads(text or "[]")
    items = data if isinstance(data, list) else [data]
    readings = []
    for m in items:
        if not isinstance(m, dict) or m.get("Active") is False:
            continue
        instance = str(m.get("InstanceName") or "") or None
        extra: dict[str, str] = {}
        try:
            e = parse_edid(bytes.fromhex(str(m["EDID"]))) if m.get("EDID") else None
        except (EdidError, ValueError) as exc:
            e, extra = None, {"edid_hex": f"the registry's EDID is unreadable: {exc}"}
        if e is None:
            e, more = _from_wmi(m)
            extra = {**more, **extra}
        readings.append(display_reading(e, source="wmi", where=instance,
                                        connector=_technology(m.get("VideoOutputTechnology")),
                                        extra_missing=extra))
    return readings


def _list_blocks(text: str) -> list[dict[str, str]]:
    """PowerShell's list formatting: ``Key : value`` lines, blocks separated by blank lines."""
    blocks: list[dict[str, str]] = [{}]
    for line in text.splitlines():
        if m := re.match(r"^\s*([A-Za-z_]\w*)\s*:\s?(.*)$", line):
            blocks[-1][m.group(1)] = m.group(2).strip()
        elif not line.strip() and blocks[-1]:
            blocks.append({})
    return [b for b in blocks if b]


def parse_wmi_list(text: str) -> list[DisplayReading]:
    """``Get-WmiObject WmiMonitorID`` / ``WmiMonitorConnectionParams`` in list formatting, joined by instance.

    PowerShell cuts arrays to four values (``{83, 65, 77, 0...}``), so names and
    serials are not recoverable from such an output; the PNP id and product code
    are read from the instance name. Sample::

        InstanceName           : DISPLAY\\SAM0D2C\\4&29c712e5&0&UID214595_0
        ManufacturerName       : {83, 65, 77, 0...}
        UserFriendlyName       : {67, 50, 52, 70...}
        WeekOfManufacture      : 22
    """
    monitors: dict[str, dict[str, Any]] = {}
    for b in _list_blocks(text):
        instance = b.get("InstanceName")
        if not instance:
            continue
        m = monitors.setdefault(instance, {"InstanceName": instance})
        for key in ("WeekOfManufacture", "YearOfManufacture", "VideoOutputTechnology"):
            if b.get(key, "").isdigit():
                m[key] = int(b[key])
        if "Active" in b:
            m["Active"] = b["Active"].lower() == "true"
    readings = []
    for m in monitors.values():
        if m.get("Active") is False:
            continue
        e, extra = _from_wmi(m)
        extra["name"] = "PowerShell's list formatting cuts the name to four characters"
        readings.append(display_reading(e, source="wmi", where=m["InstanceName"],
                                        connector=_technology(m.get("VideoOutputTechnology")),
                                        extra_missing=extra))
    return readings


def parse_reg_query(text: str) -> list[DisplayReading]:
    """``reg query HKLM\\SYSTEM\\CurrentControlSet\\Enum\\DISPLAY /s /v EDID``: every EDID the registry keeps.

    The registry keeps the EDID of every monitor ever attached, so this lists
    past displays too. Sample::

        HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Enum\\DISPLAY\\DELA0B8\\5&2f3b3a9&0&UID4352\\
            Device Parameters (one line)
            EDID    REG_BINARY    00FFFFFFFFFFFF0010AC...
    """
    readings = []
    key = None
    for line in text.splitlines():
        if line.startswith("HKEY_"):
            key = line.strip()
        elif m := re.match(r"^\s+EDID\s+REG_BINARY\s+([0-9A-Fa-f]+)\s*$", line):
            where = key.split("\\Enum\\", 1)[-1].removesuffix("\\Device Parameters") if key else None
            data = hex_bytes(m.group(1))
            e = parse_edid(data) if data else Edid(problems=["the registry's EDID value has no EDID header"])
            gone = "the registry does not say the connector; the display may no longer be attached"
            readings.append(display_reading(e, source="registry", where=where,
                                            extra_missing={"connector": gone}))
    return readings
