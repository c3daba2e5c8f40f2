"""From decoded EDIDs to the wire: one DisplayReading per display, and the measurement's counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from config.wire import DisplayConnector, DisplayReading, DisplaysMeasurement, ProbeStatus
from probes.base import Outcome
from probes.displays.edid import Edid
from probes.displays.kind import classify
from probes.displays.pnp import maker_name

MAX_EDID_HEX = 8192
# What an output name says about the cable (DRM connector types, xrandr's names, Windows' enum).
_CONNECTORS: tuple[tuple[str, DisplayConnector], ...] = (
    ("edp", "internal"), ("lvds", "internal"), ("dsi", "internal"), ("dpi", "internal"),
    ("internal", "internal"), ("hdmi", "HDMI"), ("dp", "DisplayPort"), ("displayport", "DisplayPort"),
    ("dvi", "DVI"), ("vga", "VGA"), ("hd15", "VGA"), ("d-sub", "VGA"),
)


def connector_of(output: str | None) -> DisplayConnector | None:
    """``card0-HDMI-A-1`` / ``HDMI-1`` / ``eDP-1`` / ``VGA1`` / ``DP-2`` -> the connector family."""
    if not output:
        return None
    name = output.lower()
    if name.startswith("card") and "-" in name:
        name = name.split("-", 1)[1]
    for prefix, family in _CONNECTORS:
        if name.startswith(prefix):
            return family
    return "other" if name.startswith(("virtual", "writeback", "composite", "svideo", "tv", "dmi")) else None


def _edid_values(e: Edid) -> tuple[dict[str, Any], dict[str, str]]:
    missing: dict[str, str] = {}
    p = e.preferred
    values: dict[str, Any] = dict(
        pnp_id=e.pnp_id, manufacturer=maker_name(e.pnp_id), product_code=e.product_code,
        product_code_hex=e.product_code_hex, serial_number=e.serial_number, serial=e.serial_string,
        name=e.name, alnum_strings=e.alnum_strings[:8], year=e.year, week=e.week, model_year=e.model_year,
        edid_version=e.edid_version, digital=e.digital, interface=e.interface, width_cm=e.width_cm,
        height_cm=e.height_cm, diagonal_in=e.diagonal_in, image_size_undefined=e.size_undefined,
        preferred_width_px=p.width_px if p else None, preferred_height_px=p.height_px if p else None,
        preferred_refresh_hz=p.refresh_hz if p else None,
        hdmi=e.cta.hdmi if e.cta is not None else None, extension_count=e.extension_count,
        blocks_present=e.blocks_present if e.raw else None, extension_tags=e.extension_tags,
        checksum_ok=e.checksum_ok, truncated=e.truncated if e.raw else None, problems=e.problems[:16])
    if e.raw:
        if len(e.raw) * 2 <= MAX_EDID_HEX:
            values["edid_hex"] = e.raw.hex()
        else:
            missing["edid_hex"] = f"EDID of {len(e.raw)} bytes: too long to carry"
    if e.manufacturer_hint and values["manufacturer"] is None:
        values["manufacturer"] = e.manufacturer_hint
    if values["manufacturer"] is None and e.pnp_id:
        missing["manufacturer"] = f"PNP id {e.pnp_id} is not in Socle's table of display makers"
    if e.width_cm is None:
        missing["width_cm"] = missing["height_cm"] = (
            "the EDID gives no image size (0x0: variable or undefined)" if e.size_undefined
            else "the EDID gives an aspect ratio, not a size" if e.aspect_only
            else "no image size in what was read")
    if e.name is None and e.raw:
        missing["name"] = "the EDID has no display name (0xFC) descriptor"
    if e.week is None and e.year is not None:
        missing["week"] = "model year only" if e.model_year else "the EDID gives no week of manufacture"
    if p is None:
        missing["preferred_width_px"] = ("no detailed timing in the EDID" if e.raw
                                         else "no timing in what was read")
    return values, missing


def _within_wire_limits(values: dict[str, Any]) -> dict[str, Any]:
    """OS tools (ioreg, WMI, system_profiler) can hand odd values: keep only what the wire accepts."""
    def within(key: str, low: int, high: int) -> None:
        v = values.get(key)
        if v is not None and not (isinstance(v, int) and low <= v <= high):
            values[key] = None
    within("product_code", 0, 0xFFFF)
    if values.get("product_code") is None:
        values["product_code_hex"] = None
    within("serial_number", 0, 0xFFFFFFFF)
    within("week", 1, 54)
    within("year", 1990, 2245)
    within("width_cm", 1, 255)
    within("height_cm", 1, 255)
    for key, limit in (("name", 40), ("serial", 40), ("manufacturer", 120)):
        if isinstance(values.get(key), str):
            values[key] = values[key][:limit]
    if values.get("pnp_id") is not None and len(values["pnp_id"]) != 3:
        values["pnp_id"] = None
    values["alnum_strings"] = [a[:40] for a in values.get("alnum_strings") or []]
    values["problems"] = [p[:200] for p in values.get("problems") or []]
    return values


def display_reading(e: Edid, *, source: str, where: str | None = None, output: str | None = None,
                    connector: DisplayConnector | None = None, extra_missing: dict[str, str] | None = None
                    ) -> DisplayReading:
    """The wire reading of one decoded display, its kind decided from the EDID and the connector."""
    connector = connector or connector_of(output)
    kind, reason = classify(e, (output or "internal") if connector == "internal" else None)
    values, missing = _edid_values(e)
    if connector is None:
        missing["connector"] = "the OS does not say which connector this display is on"
    missing.update(extra_missing or {})
    fields = {k: v for k, v in _within_wire_limits(values).items() if v is not None}
    return DisplayReading(source=source, where=where and where[:300], output=output and output[:80],
                          connector=connector, kind=kind, kind_reason=reason[:300], missing=missing, **fields)


def measurement(source: str, displays: Iterable[DisplayReading]) -> DisplaysMeasurement:
    """The measurement, its counts made from the readings (projection = projectors + interactive)."""
    readings = list(displays)[:32]
    kinds = Counter(d.kind for d in readings)
    return DisplaysMeasurement(
        source=source, displays=readings, display_count=len(readings),
        external_count=sum(1 for d in readings if d.kind != "internal_panel"),
        projector_count=kinds["projector"], interactive_display_count=kinds["interactive_display"],
        projection_count=kinds["projector"] + kinds["interactive_display"], tv_count=kinds["tv"],
        monitor_count=kinds["monitor"], internal_panel_count=kinds["internal_panel"],
        unknown_count=kinds["unknown"],
        edid_problem_count=sum(1 for d in readings if d.problems or d.truncated or False in d.checksum_ok))


def outcome(source: str, displays: Iterable[DisplayReading], notes: Iterable[str] = ()) -> Outcome:
    """``ok`` with the displays; ``degraded`` when an EDID was broken or unreadable; never an empty ``ok``."""
    m = measurement(source, displays)
    problems = list(notes)
    if m.display_count == 0:
        return Outcome.unavailable("; ".join(problems) or "no display found", m)
    if m.edid_problem_count:
        problems.append(f"{m.edid_problem_count} display(s) with a broken or unreadable EDID")
    if problems:
        return Outcome(ProbeStatus.degraded, m, "; ".join(problems))
    return Outcome.ok(m)
