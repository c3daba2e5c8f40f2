"""The overview's map: the schools in view as points coloured by level, on département and commune
outlines shipped with the collector (collector/geo/, see its SOURCES.md), drawn as inline SVG.

Nothing is fetched from anywhere: no tile server, no script. The outlines are read once per
process from the JSON files ``scripts/map_geometry.py`` writes (rings as quantised,
delta-encoded integers). The view is framed on the schools shown (with a margin), so a
district's reader sees their district; outlines outside the frame are left out. Communes
are drawn for the départements in view that have a ``communes-DDD.json`` file. Above
:data:`MAX_POINTS` schools (a region, the country) each département is shaded by the
share of its judged schools that are not ready instead, and a click on one filters the
list, and so the map, to it.

The projection is equirectangular around the frame's middle latitude (x scaled by its
cosine): at a district's or a region's size the shapes are true to a few per cent, and
it needs no projection library.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from collector.auth.access import school_departement
from config.wire import Level

GEO = Path(__file__).resolve().parent.parent / "geo"
WIDTH = 760.0
MIN_HEIGHT, MAX_HEIGHT = 320.0, 900.0
MARGIN = 0.08  # share of the frame added around the schools
MIN_SPAN = 0.15  # degrees: one school alone still shows its commune's neighbours
MAX_POINTS = 4000  # above this many schools the page would weigh megabytes: shade départements instead
NOT_READY, NO_DATA = Level.not_ready.value, Level.no_data.value
BBox = tuple[float, float, float, float]  # lon min, lat min, lon max, lat max


@dataclass(frozen=True)
class Shape:
    """One outline (a département or a commune) and the SVG path it draws; on a map by département,
    its schools (all, not ready, with a verdict) and its shade."""

    code: str
    name: str
    path: str
    schools: int = 0
    not_ready: int = 0
    judged: int = 0
    shade: str = ""


@dataclass(frozen=True)
class MapPoint:
    """One school on the map."""

    uai: str
    name: str
    level: str
    x: float
    y: float


@dataclass(frozen=True)
class SchoolMap:
    """What the overview draws: outlines, points, and the schools left off and why."""

    width: float
    height: float
    departements: list[Shape]
    communes: list[Shape]
    points: list[MapPoint]
    without_position: int  # schools in view that the directory gives no coordinates
    too_many: int  # over MAX_POINTS: how many schools are shown by département instead of as points


@dataclass(frozen=True)
class _Feature:
    code: str
    name: str
    rings: tuple[tuple[tuple[float, float], ...], ...]  # (lon, lat) points
    bbox: BBox


def _decode(flat: list[int], scale: int) -> tuple[tuple[float, float], ...]:
    x, y = flat[0], flat[1]
    pts = [(x / scale, y / scale)]
    for i in range(2, len(flat) - 1, 2):
        x += flat[i]
        y += flat[i + 1]
        pts.append((x / scale, y / scale))
    return tuple(pts)


@functools.cache
def layer(name: str) -> tuple[_Feature, ...]:
    """The features of ``collector/geo/NAME.json`` (none when the file is absent); read once."""
    path = GEO / f"{name}.json"
    if not path.is_file():
        return ()
    data = json.loads(path.read_text(encoding="utf-8"))
    scale = int(data["scale"])
    out = []
    for f in data["features"]:
        rings = tuple(_decode(r, scale) for r in f["rings"])
        lons = [p[0] for r in rings for p in r]
        lats = [p[1] for r in rings for p in r]
        if lons:
            out.append(_Feature(f["code"], f["name"], rings, (min(lons), min(lats), max(lons), max(lats))))
    return tuple(out)


def frame(positions: Iterable[tuple[float, float]]) -> BBox | None:
    """The (lon, lat) box around ``positions`` with a margin, at least :data:`MIN_SPAN` wide."""
    pts = list(positions)
    if not pts:
        return None
    lon0, lon1 = min(p[0] for p in pts), max(p[0] for p in pts)
    lat0, lat1 = min(p[1] for p in pts), max(p[1] for p in pts)
    dlon = max(lon1 - lon0, MIN_SPAN) * (1 + 2 * MARGIN)
    dlat = max(lat1 - lat0, MIN_SPAN) * (1 + 2 * MARGIN)
    clon, clat = (lon0 + lon1) / 2, (lat0 + lat1) / 2
    return (clon - dlon / 2, clat - dlat / 2, clon + dlon / 2, clat + dlat / 2)


class Projection:
    """(lon, lat) to SVG pixels inside a frame, equirectangular around its middle latitude."""

    def __init__(self, box: BBox) -> None:
        self.box = box
        self.k = math.cos(math.radians((box[1] + box[3]) / 2))
        span_x = (box[2] - box[0]) * self.k
        span_y = box[3] - box[1]
        self.scale = WIDTH / span_x
        self.height = min(MAX_HEIGHT, max(MIN_HEIGHT, span_y * self.scale))
        # a frame taller than MAX_HEIGHT allows is fitted by height instead, centred across
        self.scale = min(self.scale, self.height / span_y)
        self.dx = (WIDTH - span_x * self.scale) / 2
        self.dy = (self.height - span_y * self.scale) / 2

    def __call__(self, lon: float, lat: float) -> tuple[float, float]:
        return ((lon - self.box[0]) * self.k * self.scale + self.dx,
                (self.box[3] - lat) * self.scale + self.dy)


def _overlaps(a: BBox, b: BBox) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def _path(f: _Feature, proj: Projection) -> str:
    """The feature's rings as an SVG path, points less than a pixel from the last one left out (at a
    country's scale most of them: the page stays small)."""
    box, k, scale, dx, dy = proj.box, proj.k * proj.scale, proj.scale, proj.dx, proj.dy
    parts = []
    for ring in f.rings:
        kept: list[str] = []
        last_x = last_y = -1e9
        for lon, lat in ring:
            x = (lon - box[0]) * k + dx
            y = (box[3] - lat) * scale + dy
            if abs(x - last_x) >= 1 or abs(y - last_y) >= 1:
                kept.append(f"{x:.1f},{y:.1f}")
                last_x, last_y = x, y
        if len(kept) >= 3:
            parts.append("M" + " ".join(kept) + "Z")
    return "".join(parts)


@functools.lru_cache(maxsize=32)
def _shapes(name: str, box: BBox) -> tuple[Shape, ...]:
    proj = Projection(box)
    return tuple(Shape(f.code, f.name, _path(f, proj)) for f in layer(name) if _overlaps(f.bbox, box))


def shapes(name: str, box: BBox) -> list[Shape]:
    """The outlines of layer ``name`` that reach into ``box``, as SVG paths (kept for the last few
    frames asked: a scope and its filters frame the same box each time)."""
    return list(_shapes(name, box))


def _share_class(counts: dict[str, int]) -> str:
    """A département's shade: the share of its judged schools that are not ready, in four steps."""
    judged = sum(n for lv, n in counts.items() if lv != NO_DATA)
    if not judged:
        return "share-none"
    share = counts.get(NOT_READY, 0) / judged
    return "share-0" if share == 0 else "share-1" if share < 0.25 else "share-2" if share < 0.5 else "share-3"


def _by_departement(schools: list[tuple[Any, str]], box: BBox) -> list[Shape]:
    """The départements in view, each with its schools' counts per level and its shade."""
    raw: dict[tuple[str, str | None], dict[str, int]] = {}  # by the département as recorded (or the UAI's
    for row, level in schools:                               # prefix, without one) first
        key = (row.uai[:3], None) if not row.departement else ("", row.departement)
        by = raw.setdefault(key, {})
        by[level] = by.get(level, 0) + 1
    counts: dict[str, dict[str, int]] = {}
    for (prefix, recorded), levels in raw.items():  # each spelling normalised once
        code = school_departement(recorded, prefix)
        dep = counts.setdefault(code, {})
        for level, n in levels.items():
            dep[level] = dep.get(level, 0) + n
    out = []
    for s in shapes("departements", box):
        c = counts.get(s.code)
        if c is None:
            out.append(s)
        else:
            out.append(Shape(s.code, s.name, s.path, sum(c.values()), c.get(NOT_READY, 0),
                             sum(n for lv, n in c.items() if lv != NO_DATA), _share_class(c)))
    return out


def school_map(schools: list[tuple[Any, str]]) -> SchoolMap:
    """The map of ``schools`` (directory rows with uai, name, departement, latitude, longitude; and each
    one's level), framed on those with coordinates: one point per school, or above
    :data:`MAX_POINTS` one shaded outline per département (a click filters the list to it)."""
    placed = [(row, level) for row, level in schools
              if row.latitude is not None and row.longitude is not None]
    box = frame((row.longitude, row.latitude) for row, _ in placed)
    if box is None:
        return SchoolMap(WIDTH, MIN_HEIGHT, [], [], [], len(schools), 0)
    proj = Projection(box)
    height = round(proj.height, 1)
    if len(placed) > MAX_POINTS:
        return SchoolMap(WIDTH, height, _by_departement(schools, box), [], [], 0, len(schools))
    deps = shapes("departements", box)
    communes = [s for d in deps for s in shapes(f"communes-{d.code}", box)]
    points = []
    for row, level in placed:
        x, y = proj(row.longitude, row.latitude)
        points.append(MapPoint(row.uai, row.name, level, round(x, 1), round(y, 1)))
    return SchoolMap(WIDTH, height, deps, communes, points, len(schools) - len(points), 0)
