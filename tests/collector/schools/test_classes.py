"""Classes per school: read from the national count file in the directory import, set or corrected by an
admin, stored with where the figure came from, carried by the API and shown on the school page."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from collector.cli.main import main as collector_main
from collector.db.models import School
from collector.schools.importing import import_directory
from collector.schools.records import update_school
from tests.collector_db import NOW, SCHOOLS, Harness, auth
from tests.conftest import FIXTURES
from tests.dashboard_support import CARDROC, Seeded, seed
from tests.dashboard_support import NOW as SEEDED_NOW

FIX = FIXTURES / "schools"
DIR_2023 = FIX / "annuaire-education-2023-dep035.csv"
COUNTS_2022 = FIX / "ecoles-effectifs-nb-classes-2022-dep035-labels.csv"


def test_an_admins_count_is_kept_over_the_import_until_cleared(harness: Harness) -> None:
    with harness.sessions() as s:
        update_school(s, "0350122T", {"classes": 7}, NOW)  # Baulon: the 2022 file says 6
        s.commit()
        result = import_directory(s, DIR_2023, NOW, COUNTS_2022)
        s.commit()
        assert (result.classes_set, result.classes_kept) == (673, 1)
        row = s.get(School, "0350122T")
        assert row is not None and (row.classes, row.classes_origin, row.classes_file) == (7, "admin", None)
        update_school(s, "0350122T", {"classes": None}, NOW)
        import_directory(s, DIR_2023, NOW, COUNTS_2022)
        s.commit()
        s.refresh(row)
        assert (row.classes, row.classes_origin, row.classes_year) == (6, "import", 2022)


def test_the_api_carries_the_count_and_its_source(harness: Harness) -> None:
    with harness.sessions() as s:
        import_directory(s, DIR_2023, NOW, COUNTS_2022)
        s.commit()
    reader = harness.token("reader")
    body = harness.client.get("/api/v1/schools/0350122T", headers=auth(reader)).json()
    assert body["classes"] == 6
    assert body["classes_source"] == {"origin": "import", "year": 2022, "set_at": "2026-11-20T09:00:00Z",
                                      "file": "ecoles-effectifs-nb-classes-2022-dep035-labels.csv"}
    assert (body["commune_code"], body["circonscription_code"], body["sector"]) == ("35016", "0350739N",
                                                                                    "public")
    unknown = harness.client.get(f"/api/v1/schools/{SCHOOLS[2].uai}", headers=auth(reader)).json()
    assert unknown["classes"] is None and unknown["classes_source"] is None


def test_cli_add_and_set_classes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    assert collector_main(["school", "add", "0350122T", "--name", "Les Lucioles", "--commune", "Baulon",
                           "--commune-code", "35016", "--classes", "6", *data]) == 0
    assert "added 0350122T Les Lucioles (Baulon)" in capsys.readouterr().out
    assert collector_main(["school", "set", "0350122T", "--classes", "7", *data]) == 0
    assert "updated 0350122T Les Lucioles (Baulon): classes; 7 classes (admin)" in capsys.readouterr().out
    assert collector_main(["school", "list", *data]) == 0
    assert "0350122T\tLes Lucioles\tBaulon (35016)\t7 classes" in capsys.readouterr().out
    assert collector_main(["school", "set", "0350122T", *data]) == 2
    assert "nothing to change" in capsys.readouterr().err
    assert collector_main(["school", "set", "0350122T", "--commune-code", "3501", *data]) == 2
    assert "commune_code: Value error, commune code '3501' is not an INSEE code" in capsys.readouterr().err
    assert collector_main(["school", "set", "0350165P", "--classes", "3", *data]) == 1
    assert "no school 0350165P in this collector" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        collector_main(["school", "set", "0350122T", "--classes", "-1", *data])


@pytest.fixture
def seeded(tmp_path: Path, db_url: str) -> Seeded:
    """The seeded collector, on SQLite and on PostgreSQL."""
    return seed(tmp_path, db_url=db_url)


def test_the_school_page_shows_the_count_its_source_and_the_directory_record(seeded: Seeded) -> None:
    with seeded.sessions() as s:
        import_directory(s, DIR_2023, SEEDED_NOW, COUNTS_2022)
        s.commit()
    c = TestClient(seeded.app)
    c.post("/login", data={"token": seeded.tokens["reader"], "next": "/dashboard"})
    page = c.get(f"/dashboard/schools/{CARDROC.uai}").text
    assert ("3 classes\n<span class=\"source\">(d&#39;après ecoles-effectifs-nb-classes-2022-dep035-labels"
            ".csv, rentrée 2022)</span>") in page
    assert '<dd id="fact-commune-code">35050</dd>' in page
    assert "Circonscription d&#39;inspection du 1er degré de Saint Grégoire" in page
    assert '<dd id="fact-sector">Public</dd>' in page and '<dd id="fact-state">Ouverte</dd>' in page
    with seeded.sessions() as s:
        update_school(s, CARDROC.uai, {"classes": 4}, SEEDED_NOW)
        s.commit()
    page = c.get(f"/dashboard/schools/{CARDROC.uai}").text
    assert "4 classes\n<span class=\"source\">(saisi par un administrateur le 27/11/2026 09:00 UTC)" in page
