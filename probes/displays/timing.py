"""The 18-byte detailed timing descriptor (DTD), shared by the base block and the CTA-861 block."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    """A detailed timing descriptor: active pixels, refresh and physical size."""

    width_px: int
    height_px: int
    refresh_hz: float | None
    interlaced: bool = False
    width_mm: int | None = None
    height_mm: int | None = None


def parse_timing(d: bytes) -> Timing | None:
    """An 18-byte detailed timing descriptor; None when it is a display descriptor (clock 0)."""
    clock_10khz = d[0] | d[1] << 8
    if clock_10khz == 0:
        return None
    h_active = d[2] | (d[4] & 0xF0) << 4
    h_blank = d[3] | (d[4] & 0x0F) << 8
    v_active = d[5] | (d[7] & 0xF0) << 4
    v_blank = d[6] | (d[7] & 0x0F) << 8
    interlaced = bool(d[17] & 0x80)
    w_mm, h_mm = d[12] | (d[14] & 0xF0) << 4, d[13] | (d[14] & 0x0F) << 8
    h_total, v_total = h_active + h_blank, v_active + v_blank
    refresh = None
    if h_total and v_total:
        # An interlaced DTD gives one field's lines; the rate is the field rate, as edid-decode shows it.
        lines = v_total + 0.5 if interlaced else v_total
        refresh = round(clock_10khz * 10_000 / (h_total * lines), 3)
    return Timing(h_active, v_active * 2 if interlaced else v_active, refresh, interlaced,
                  w_mm or None, h_mm or None)
