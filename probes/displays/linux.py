"""Linux: the kernel's DRM connectors (``/sys/class/drm/card*-*/``) and ``xrandr --props``.

Each DRM connector directory holds ``status`` (``connected``...) and ``edid``
(the raw blob, empty when nothing is attached or the driver does not expose
it — NVIDIA's proprietary driver does not). ``xrandr --props`` prints the same
EDID as hex under each connected output; it needs an X session.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from config.wire import DisplayReading
from probes.displays.edid import Edid, EdidError, hex_bytes, parse_edid
from probes.displays.reading import display_reading

DRM = Path("sys/class/drm")
_CONNECTOR_DIR = re.compile(r"^card\d+-(.+)$")


@dataclass(frozen=True)
class DrmConnector:
    """One ``/sys/class/drm/cardN-NAME`` directory as read: its name, status and EDID bytes."""

    name: str  # e.g. HDMI-A-1, eDP-1 (without the cardN- prefix)
    path: str
    status: str
    edid: bytes


def read_drm(fs_root: Path) -> list[DrmConnector] | None:
    """The DRM connectors under ``fs_root``; None when there is no ``/sys/class/drm`` at all."""
    base = fs_root / DRM
    if not base.is_dir():
        return None
    found = []
    for entry in sorted(base.iterdir()):
        m = _CONNECTOR_DIR.match(entry.name)
        if not m or not (entry / "status").is_file():
            continue
        try:
            status = (entry / "status").read_text(encoding="ascii", errors="replace").strip()
            edid = (entry / "edid").read_bytes() if (entry / "edid").is_file() else b""
        except OSError:
            continue  # a connector that vanished while being read
        found.append(DrmConnector(m.group(1), f"/{DRM}/{entry.name}/edid", status, edid))
    return found


def _reading(source: str, where: str, output: str, edid: bytes,
             without: Edid | None = None) -> DisplayReading:
    """A reading from one output's EDID bytes, or an EDID-less reading (``without``) that says why."""
    if not edid:
        bare = without or Edid()
        if not bare.problems:
            bare.problems.append("the output reports a display but gives no EDID")
        return display_reading(bare, source=source, where=where, output=output)
    try:
        return display_reading(parse_edid(edid), source=source, where=where, output=output)
    except EdidError as exc:
        return display_reading(Edid(problems=[f"unreadable EDID: {exc}"]), source=source, where=where,
                               output=output)


def parse_drm(connectors: list[DrmConnector]) -> list[DisplayReading]:
    """One reading per connected connector (pure: the connectors were read by :func:`read_drm`).

    Sample of what is read, per connector::

        /sys/class/drm/card0-HDMI-A-1/status   connected
        /sys/class/drm/card0-HDMI-A-1/edid     00 ff ff ff ff ff ff 00 4c a3 ...
    """
    return [_reading("sysfs", c.path, c.name, c.edid) for c in connectors if c.status == "connected"]


_XRANDR_OUTPUT = re.compile(r"^(\S+) (connected|disconnected|unknown connection)\b(.*)$")


def parse_xrandr(text: str) -> list[DisplayReading]:
    """The connected outputs of ``xrandr --props`` (or plain ``xrandr``), with their EDIDs.

    Sample::

        VGA-1 connected 1440x900+1366+0 (normal left inverted right x axis y axis) 408mm x 255mm
                EDID:
                        00ffffffffffff000469d41901010101
                        2011010308291a78ea8585a6574a9c26
    """
    blocks: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        m = _XRANDR_OUTPUT.match(line)
        if m:
            blocks.append((line, []))
        elif blocks:
            blocks[-1][1].append(line)
    readings = []
    for head, body in blocks:
        m = _XRANDR_OUTPUT.match(head)
        assert m is not None
        if m.group(2) != "connected":
            continue
        edid = hex_bytes("\n".join(body)) or b""
        without = Edid()
        if not any("EDID" in line for line in body):
            without.problems.append("plain xrandr does not print the EDID (xrandr --props does)")
        if mm := re.search(r"(\d+)mm x (\d+)mm", m.group(3)):
            w, h = int(mm.group(1)), int(mm.group(2))
            if w and h:
                without.width_cm, without.height_cm = round(w / 10), round(h / 10)
        readings.append(_reading("xrandr", f"xrandr output {m.group(1)}", m.group(1), edid, without))
    return readings
