"""Internet contracts: the CSV import (bad rows by line and reason), and measured against contracted on the
school page, in the overview's "under 80 % of contract" list and in the exports (both databases).

The contract file is written by the test: no public dataset of schools' contracts exists."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from collector.cli.main import main as collector_main
from collector.db.models import SchoolContract
from collector.schools.contracts import Technology, import_contracts, parse_contracts
from collector.schools.directory import DirectoryError
from tests.dashboard_support import BAULON, CARDROC, CHAVAGNE, FRESNES, NOW, Seeded, seed

CSV = ("\ufeffuai;provider;technology;download_mbps;upload_mbps\r\n"
       f"{BAULON.uai};Orange;fibre;8;1\r\n"  # measured 5.4 down (67.5 %), 1.5 up
       f"{CARDROC.uai};Nordnet;ADSL;25;5\r\n"  # measured 24 down (96 %), 6 up
       "0350122X;Orange;fibre;100;50\r\n"  # a wrong check letter
       f"{CHAVAGNE.uai};SFR;fibre;100,5;10\r\n"  # no agent: nothing measured
       f"{FRESNES.uai};Bouygues;pigeon;10;1\r\n"
       "0350270D;Orange;fibre;100;50\r\n"  # a real école, not in this collector
       f"{CHAVAGNE.uai};SFR;fibre;-3;10\r\n")
HTML = {"accept": "text/html"}


@pytest.fixture
def seeded(tmp_path: Path, db_url: str) -> Seeded:
    """The seeded collector (Baulon fails its download floor), on SQLite and on PostgreSQL."""
    return seed(tmp_path, db_url=db_url)


def _imported(seeded: Seeded, tmp_path: Path) -> Path:
    path = tmp_path / "contrats.csv"
    path.write_text(CSV, encoding="utf-8")
    with seeded.sessions() as s:
        result = import_contracts(s, path, NOW)
        s.commit()
    assert (result.rows, result.added, result.updated, result.unchanged) == (7, 3, 0, 0)
    return path


def test_contract_rows_parse_with_french_decimals_and_technology_names() -> None:
    contracts, problems = parse_contracts(CSV.encode())
    assert [(line, c.uai, c.technology, c.download_mbps) for line, c in contracts] == [
        (2, BAULON.uai, Technology.fibre, 8.0), (3, CARDROC.uai, Technology.copper, 25.0),
        (5, CHAVAGNE.uai, Technology.fibre, 100.5), (7, "0350270D", Technology.fibre, 100.0)]
    assert [(p.line, p.message.split(":")[0]) for p in problems] == [
        (4, "uai"), (6, "technology"), (8, "download_mbps")]
    assert "wrong check letter" in problems[0].message
    assert "'pigeon' is not a technology" in problems[1].message
    assert "greater than 0" in problems[2].message
    french = ("UAI,Fournisseur,Technologie,Débit descendant (Mbit/s),Débit montant (Mbit/s)\n"
              "0350122T,Free,4G/5G,50,5\n")
    assert [c.technology for _, c in parse_contracts(french.encode())[0]] == [Technology.mobile]
    with pytest.raises(DirectoryError, match="no column provider"):
        parse_contracts(b"uai;technology\n0350122T;fibre\n")


def test_contracts_import_reports_bad_rows_and_shows_on_the_school_page(seeded: Seeded,
                                                                        tmp_path: Path) -> None:
    path = tmp_path / "contrats.csv"
    path.write_text(CSV, encoding="utf-8")
    with seeded.sessions() as s:
        result = import_contracts(s, path, NOW)
        s.commit()
    assert (result.added, result.updated, result.unchanged) == (3, 0, 0)
    assert [(p.line, p.message.split(":")[0].split()[0]) for p in result.errors] == [
        (4, "uai"), (6, "technology"), (7, "no"), (8, "download_mbps")]
    assert "no school 0350270D in this collector" in result.errors[2].message
    with seeded.sessions() as s:
        row = s.get(SchoolContract, BAULON.uai)
        assert row is not None and (row.provider, row.technology, row.source) == (
            "Orange", "fibre", "contrats.csv line 2")
    c = TestClient(seeded.app)
    c.post("/login", data={"token": seeded.tokens["reader"], "next": "/dashboard"})
    page = c.get(f"/dashboard/schools/{BAULON.uai}", headers=HTML).text
    assert "Orange, fibre : 8 Mbit/s descendant, 1 Mbit/s montant" in page
    assert "68 % des 8 Mbit/s contractés" in page  # 5.4 of 8 Mbit/s: the A1 rule's 7-night median
    assert "5,4 Mbit/s mesurés (médiane, 7 j, règle A1-download-floor)" in page
    assert "150 % des 1 Mbit/s contractés" in page
    assert 'id="contract-under"' in page
    english = c.get(f"/dashboard/schools/{BAULON.uai}?lang=en").text
    assert "68 % of the contracted 8 Mbit/s" in english
    chavagne = c.get(f"/dashboard/schools/{CHAVAGNE.uai}", headers=HTML).text
    assert "pas de mesure suffisante sur la fenêtre de la règle (100,5 Mbit/s contractés)" in chavagne
    assert "Aucun contrat enregistré" in c.get(f"/dashboard/schools/{FRESNES.uai}", headers=HTML).text
    assert "68 % des 8 Mbit/s contractés" in c.get(f"/dashboard/schools/{BAULON.uai}/report").text
    with seeded.sessions() as s:
        again = import_contracts(s, path, datetime(2026, 12, 1, tzinfo=UTC))
    assert (again.added, again.updated, again.unchanged) == (0, 0, 3)


def test_the_overview_lists_the_schools_under_80_percent_of_their_contract(seeded: Seeded,
                                                                          tmp_path: Path) -> None:
    _imported(seeded, tmp_path)
    c = TestClient(seeded.app)
    c.post("/login", data={"token": seeded.tokens["reader"], "next": "/dashboard"})
    under = c.get("/dashboard?contract=under").text
    assert re.findall(r'<tr data-uai="(\w+)">', under) == [BAULON.uai]
    assert "↓ 68 % de 8 Mbit/s" in under
    everything = c.get("/dashboard").text
    assert "↓ 96 % de 25 Mbit/s" in everything and "↓ — / 100,5 Mbit/s" in everything
    doc = c.get("/dashboard/export.json?contract=under").json()
    assert [(s["uai"], s["measured_download_mbps"], s["download_pct_of_contract"])
            for s in doc["schools"]] == [(BAULON.uai, pytest.approx(5.4), 67.5)]
    rows = c.get("/dashboard/export.csv?lang=en").content.decode("utf-8-sig").splitlines()  # identifiers
    header = rows[0].split(";")
    cardroc = dict(zip(header, next(r for r in rows if r.startswith(CARDROC.uai)).split(";"), strict=True))
    assert (cardroc["contract_provider"], cardroc["contract_technology"]) == ("Nordnet", "copper")
    assert (cardroc["contract_download_mbps"], cardroc["download_pct_of_contract"]) == ("25.0", "96.0")
    scoped = TestClient(seeded.app)
    scoped.post("/login", data={"token": seeded.tokens["creteil"], "next": "/dashboard"})
    assert re.findall(r'<tr data-uai="(\w+)">', scoped.get("/dashboard?contract=under").text) == []


def test_cli_contract_import_set_and_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    assert collector_main(["school", "add", BAULON.uai, "--name", BAULON.name, "--commune", "Baulon",
                           *data]) == 0
    path = tmp_path / "contrats.csv"
    path.write_text(CSV, encoding="utf-8")
    assert collector_main(["school", "contract", "import", str(path), *data]) == 0
    out = capsys.readouterr()
    assert "7 rows: 1 added, 0 updated, 0 unchanged, 6 bad rows" in out.out
    assert "line 3: skipped: no school 0350165P in this collector" in out.err
    assert collector_main(["school", "contract", "set", BAULON.uai, "--provider", "Free", "--technology",
                           "5G", "--download", "300", "--upload", "50", *data]) == 0
    assert "updated the contract of 0350122T: Free, mobile, 300/50 Mbit/s" in capsys.readouterr().out
    assert collector_main(["school", "contract", "list", *data]) == 0
    assert "0350122T\tFree\tmobile\t300/50 Mbit/s\tadmin" in capsys.readouterr().out
    assert collector_main(["school", "contract", "set", BAULON.uai, "--provider", "Free", "--technology",
                           "fibre", "--download", "0", "--upload", "50", *data]) == 2
    assert "download_mbps: Input should be greater than 0" in capsys.readouterr().err
