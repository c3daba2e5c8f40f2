"""The picture of a school's Wi-Fi coverage: one bar per room against signal, thresholds marked.

Pure: rooms in, SVG text out (no I/O, no database), so the API and the dashboard
both embed it. Each bar rises from the bottom of the scale to the room's median
signal; a tick marks the weakest reading; the colour says the room's W6 verdict;
a dashed line marks the threshold (−67 dBm by default).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from xml.sax.saxutils import escape, quoteattr

FLOOR_DBM, CEILING_DBM = -95.0, -30.0
COLOURS = {"pass": "#2e7d32", "fail": "#c62828", "no_data": "#9e9e9e"}
BAR_W, GAP, LEFT, TOP, PLOT_H, BOTTOM = 44, 22, 64, 36, 220, 64


class RoomBar(Protocol):
    """What a bar needs: the room, its median and weakest signal, its W6 verdict."""

    @property
    def room(self) -> str: ...
    @property
    def signal_median_dbm(self) -> float | None: ...
    @property
    def signal_min_dbm(self) -> float | None: ...
    @property
    def w6(self) -> str: ...


def _y(dbm: float) -> float:
    clamped = min(max(dbm, FLOOR_DBM), CEILING_DBM)
    return round(TOP + PLOT_H * (CEILING_DBM - clamped) / (CEILING_DBM - FLOOR_DBM), 1)


def coverage_svg(rooms: Sequence[RoomBar], threshold_dbm: float = -67.0,
                 title: str = "Wi-Fi coverage") -> str:
    """An SVG document: rooms against signal (dBm), the threshold as a dashed line."""
    width = LEFT + max(1, len(rooms)) * (BAR_W + GAP) + GAP
    height = TOP + PLOT_H + BOTTOM
    base = _y(FLOOR_DBM)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label={quoteattr(title)} '
           'font-family="sans-serif" font-size="11">',
           f"<title>{escape(title)}</title>",
           f'<text x="{LEFT}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>']
    for dbm in range(int(CEILING_DBM), int(FLOOR_DBM) - 1, -10):  # the scale
        y = _y(dbm)
        out.append(f'<line class="grid" x1="{LEFT}" y1="{y}" x2="{width - GAP}" y2="{y}" stroke="#e0e0e0"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4}" text-anchor="end">{dbm}</text>')
    out.append(f'<text x="14" y="{TOP + PLOT_H / 2}" transform="rotate(-90 14 {TOP + PLOT_H / 2})" '
               'text-anchor="middle">signal (dBm)</text>')
    for i, r in enumerate(rooms):
        x = LEFT + GAP + i * (BAR_W + GAP)
        cx = x + BAR_W / 2
        colour = COLOURS.get(r.w6, COLOURS["no_data"])
        label = escape(r.room if len(r.room) <= 12 else r.room[:11] + "…")
        out.append(f'<text class="room-label" x="{cx}" y="{base + 16}" text-anchor="middle">{label}</text>')
        if r.signal_median_dbm is None:
            out.append(f'<text x="{cx}" y="{base - 6}" text-anchor="middle" fill="#757575">no dBm</text>')
            continue
        top = _y(r.signal_median_dbm)
        out.append(f'<rect class="bar" data-room={quoteattr(r.room)} '
                   f'data-median-dbm="{r.signal_median_dbm:g}" data-w6="{escape(r.w6)}" '
                   f'x="{x}" y="{top}" width="{BAR_W}" height="{round(base - top, 1)}" '
                   f'fill="{colour}"><title>{escape(r.room)}: median {r.signal_median_dbm:g} dBm, '
                   f'W6 {escape(r.w6)}</title></rect>')
        out.append(f'<text x="{cx}" y="{top - 4}" text-anchor="middle">{r.signal_median_dbm:g}</text>')
        if r.signal_min_dbm is not None:
            ym = _y(r.signal_min_dbm)
            out.append(f'<line class="min" x1="{x + 6}" y1="{ym}" x2="{x + BAR_W - 6}" y2="{ym}" '
                       'stroke="#212121" stroke-width="2"/>')
    ty = _y(threshold_dbm)
    out.append(f'<line class="threshold" data-dbm="{threshold_dbm:g}" x1="{LEFT}" y1="{ty}" '
               f'x2="{width - GAP}" y2="{ty}" stroke="#ef6c00" stroke-width="2" stroke-dasharray="6 4"/>')
    out.append(f'<text x="{width - GAP}" y="{ty - 4}" text-anchor="end" fill="#ef6c00">'
               f'{threshold_dbm:g} dBm</text>')
    legend_y = height - 14
    out.append(f'<text x="{LEFT}" y="{legend_y}" fill="#424242">bar: median; black tick: weakest reading; '
               'green: meets W6, red: does not, grey: no data</text>')
    out.append("</svg>")
    return "\n".join(out)
