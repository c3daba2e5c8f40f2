"""The overview's map: one point per school in scope with coordinates, outlines from the shipped files."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from collector.dashboard.geomap import MAX_POINTS, Projection, frame, layer
from collector.db.models import School
from collector.schools.importing import import_directory
from tests.conftest import FIXTURES, ROOT
from tests.dashboard_support import NOW, Seeded, seed

FIX = FIXTURES / "schools"
GEO = ROOT / "collector" / "geo"


def seed_directory(tmp: Path) -> Seeded:
    """The seeded collector with the real Ille-et-Vilaine and Val-de-Marne directories imported."""
    s = seed(tmp)
    with s.sessions() as session:
        for name in ("annuaire-education-2023-dep035.csv",
                     "annuaire-education-2026-dep094-ecoles-publiques.csv"):
            import_directory(session, FIX / name, NOW - timedelta(days=1))
        session.commit()
    return s


def placed(s: Seeded, departement: str | None = None) -> set[str]:
    """The UAIs of the schools the directory gives coordinates (of one département)."""
    with s.sessions() as session:
        q = select(School.uai).where(School.latitude.is_not(None), School.longitude.is_not(None))
        if departement:
            q = q.where(School.departement == departement)
        return set(session.scalars(q))


def signed_in(s: Seeded, token: str) -> TestClient:
    c = TestClient(s.app)
    assert c.post("/login", data={"token": s.tokens[token], "next": "/dashboard"},
                  follow_redirects=False).status_code == 303
    return c


def points(html: str) -> list[str]:
    return re.findall(r'<a href="/dashboard/schools/(\w+)" data-uai="\1"><circle class="pt level-', html)


def test_every_school_with_coordinates_in_scope_is_a_point(tmp_path: Path) -> None:
    s = seed_directory(tmp_path)
    everyone = placed(s)
    assert len(everyone) > 500  # the real 035 file's primary schools, and 094's
    html = signed_in(s, "reader").get("/dashboard").text
    shown = points(html)
    assert sorted(shown) == sorted(everyone)
    assert 'data-code="035"' in html and 'data-code="094"' in html
    assert "Licence Ouverte" in html


def test_the_map_keeps_to_the_readers_scope_and_filters(tmp_path: Path) -> None:
    s = seed_directory(tmp_path)
    c = signed_in(s, "creteil")  # académie de Créteil: the 094 schools only
    html = c.get("/dashboard").text
    assert set(points(html)) == placed(s, "094") and placed(s, "094")
    assert 'data-code="035"' not in html  # framed on Val-de-Marne: Ille-et-Vilaine is out of view
    reader = signed_in(s, "reader")
    html = reader.get("/dashboard?level=not_ready").text
    assert points(html) == ["0350122T"]  # Baulon, the one school not ready
    assert '<circle class="pt level-not_ready"' in html


def test_schools_without_coordinates_are_counted_not_drawn(tmp_path: Path) -> None:
    s = seed(tmp_path)  # the seeded schools have no coordinates
    html = signed_in(s, "reader").get("/dashboard").text
    assert points(html) == []
    assert 'id="map-none"' in html
    assert "4 école(s) sans coordonnées" in html


def test_too_many_schools_shade_departements_that_filter_the_list(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    s = seed_directory(tmp_path)
    monkeypatch.setattr("collector.dashboard.geomap.MAX_POINTS", 10)
    c = signed_in(s, "reader")
    html = c.get("/dashboard").text
    assert points(html) == [] and 'id="map-too-many"' in html
    shaded = dict(re.findall(r'<a href="/dashboard\?departement=(\w+)" data-departement="\1"><path class="'
                             r'(share-[\w]+)"', html))
    # 035: Baulon not ready, Cardroc base met: half of the judged schools are not ready
    assert shaded == {"035": "share-3", "094": "share-none"}
    n035 = len([u for u in placed(s) if u.startswith("035")])
    assert f"Ille-et-Vilaine (035) : {n035} école(s), 1 non prête(s) sur 2 évaluée(s)" in html
    html = c.get("/dashboard?level=no_data").text  # the shades follow the list's filters
    assert dict(re.findall(r'data-departement="(\w+)"><path class="(share-\w+)"', html)) == {
        "035": "share-none", "094": "share-none"}
    assert 'href="/dashboard?departement=035&amp;level=no_data"' in html
    assert MAX_POINTS >= 2500  # a département, even the largest, still shows one point per school


def test_shipped_outlines_are_small_and_cover_france() -> None:
    deps = {f.code: f for f in layer("departements")}
    assert len(deps) == 101 and {"035", "094", "02A", "971", "976"} <= set(deps)
    rennes = (-1.6778, 48.1173)
    lon0, lat0, lon1, lat1 = deps["035"].bbox
    assert lon0 < rennes[0] < lon1 and lat0 < rennes[1] < lat1
    assert len(layer("communes-035")) == 332
    assert layer("communes-999") == ()
    total = sum(p.stat().st_size for p in GEO.glob("*.json"))
    assert total < 300_000
    assert "Licence Ouverte" in (GEO / "SOURCES.md").read_text()


def test_projection_keeps_the_frame_inside_the_picture() -> None:
    box = frame([(-2.0, 47.7), (-1.0, 48.7)])
    assert box is not None
    proj = Projection(box)
    for lon, lat in ((-2.0, 47.7), (-1.0, 48.7)):
        x, y = proj(lon, lat)
        assert 0 < x < 760 and 0 < y < proj.height
    x_west, _ = proj(-2.0, 48.2)
    x_east, _ = proj(-1.0, 48.2)
    _, y_north = proj(-1.5, 48.7)
    _, y_south = proj(-1.5, 47.7)
    # one degree of longitude at 48.2° N is cos(48.2°) ≈ 0.67 of one degree of latitude
    assert (x_east - x_west) / (y_south - y_north) == pytest.approx(0.666, abs=0.01)
    assert frame([]) is None
