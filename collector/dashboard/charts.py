"""Small line charts as inline SVG, drawn on the server (no JavaScript library)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape

from markupsafe import Markup

from .render import number

PALETTE = ("#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#bf3989", "#0a7ea4", "#57606a")
W, H = 640, 180
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 28


@dataclass(frozen=True)
class Series:
    """One line: a name and its (day, value) points."""

    name: str
    points: list[tuple[date, float]]


def daily_medians(samples: Iterable[tuple[str, datetime, float]]) -> list[Series]:
    """(series name, time, value) samples -> one series per name of per-day medians."""
    buckets: dict[str, dict[date, list[float]]] = defaultdict(lambda: defaultdict(list))
    for name, at, value in samples:
        buckets[name][at.date()].append(value)
    return [Series(name, sorted((d, float(statistics.median(v))) for d, v in days.items()))
            for name, days in sorted(buckets.items())]




def line_chart(series: list[Series], *, title: str, start: date, days: int, empty: str,
               threshold: float | None = None, threshold_label: str = "",
               floor: float | None = 0.0, lang: str = "en") -> Markup:
    """An SVG chart of ``series`` over ``days`` days from ``start``; a dashed line at ``threshold``;
    figures and days written as ``lang`` writes them.

    Why this long: the axes, the threshold line, the series and their labels are one drawing
    in one coordinate system; split, each part would take the same seven scale values.
    """
    day_format, colon = ("%d/%m/%Y", " : ") if lang == "fr" else ("%Y-%m-%d", ": ")

    def fmt(v: float) -> str:
        return number(v, lang, 0 if abs(v) >= 10 else 1)

    values = [v for s in series for _, v in s.points]
    if threshold is not None:
        values.append(threshold)
    parts = [f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" xmlns="http://www.w3.org/2000/svg" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>']
    if not any(s.points for s in series):
        parts.append(f'<text x="{W / 2}" y="{H / 2}" text-anchor="middle" class="empty">'
                     f'{escape(empty)}</text>')
        parts.append("</svg>")
        return Markup("".join(parts))
    lo = min(values) if floor is None else min(floor, *values)
    hi = max(values)
    if hi - lo < 1e-9:
        hi = lo + 1
    pad = (hi - lo) * 0.08
    lo, hi = (lo if floor is not None and lo == floor else lo - pad), hi + pad
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM

    def x(d: date) -> float:
        return LEFT + plot_w * ((d - start).days / max(1, days - 1))

    def y(v: float) -> float:
        return TOP + plot_h * (1 - (v - lo) / (hi - lo))

    parts.append(f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" class="plot"/>')
    for frac in (0.0, 0.5, 1.0):
        v = lo + (hi - lo) * frac
        parts.append(f'<text x="{LEFT - 4}" y="{y(v) + 4:.1f}" text-anchor="end" class="axis">'
                     f'{fmt(v)}</text>')
    for i in (0, days // 2, days - 1):
        d = start + timedelta(days=i)
        parts.append(f'<text x="{x(d):.1f}" y="{H - 8}" text-anchor="middle" class="axis">'
                     f'{d:%d/%m}</text>')
    if threshold is not None:
        ty = y(threshold)
        parts.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}" class="threshold"/>')
        parts.append(f'<text x="{W - RIGHT - 4}" y="{ty - 4:.1f}" text-anchor="end" class="axis">'
                     f'{escape(threshold_label)} {fmt(threshold)}</text>')
    for i, s in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        pts = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in s.points)
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2"/>')
        name = f"{s.name} " if len(series) > 1 else ""  # one line: the chart's title names it
        for d, v in s.points:
            parts.append(f'<circle cx="{x(d):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}">'
                         f'<title>{escape(name)}{d.strftime(day_format)}{colon}{fmt(v)}</title></circle>')
    if len(series) > 1:
        for i, s in enumerate(series):
            parts.append(f'<text x="{LEFT + 6 + 110 * i}" y="{TOP + 12}" class="legend" '
                         f'fill="{PALETTE[i % len(PALETTE)]}">{escape(s.name[:16])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
