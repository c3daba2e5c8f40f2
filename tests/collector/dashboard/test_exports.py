"""CSV and JSON exports of the school list."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from collector.dashboard.contract import ContractFigures, Rate
from collector.dashboard.exports import to_csv, to_json
from collector.dashboard.overview import SchoolLine

CONTRACT = ContractFigures(provider="Orange", technology="fibre", source="contrats.csv line 2",
                           download=Rate(100.0, 62.0, "A1-download-floor", 7, "median"),
                           upload=Rate(50.0, None, "A2-upload-base", 7, "median"))
LINES = [
    SchoolLine("0350122T", "Ecole primaire publique les Lucioles", "Baulon", "035", "Rennes", "Ecole", 143,
               "not_ready", False, ("A1-download-floor", "E5-ram"), CONTRACT, "35016",
               "Circonscription d'inspection du 1er degré de Bruz", 6,
               datetime(2026, 10, 14, 3, 0, tzinfo=UTC)),
    SchoolLine("0940176F", "Ecole élémentaire Robert Doisneau; annexe", "Fresnes", "094", "Créteil", "Ecole",
               None, "no_data", True, ()),
]


def test_csv_is_semicolon_crlf_with_unknowns_empty_and_quoting_when_needed() -> None:
    assert to_csv(LINES) == (
        "uai;name;commune;departement;academie;school_type;pupils;level;silent;failing_rules;commune_code;"
        "circonscription;classes;contract_provider;contract_technology;contract_download_mbps;"
        "contract_upload_mbps;measured_download_mbps;measured_upload_mbps;download_pct_of_contract;"
        "upload_pct_of_contract;level_since\r\n"
        "0350122T;Ecole primaire publique les Lucioles;Baulon;035;Rennes;Ecole;143;not_ready;0;"
        "A1-download-floor E5-ram;35016;Circonscription d'inspection du 1er degré de Bruz;6;Orange;fibre;"
        "100.0;50.0;62.0;;62.0;;2026-10-14T03:00:00+00:00\r\n"
        '0940176F;"Ecole élémentaire Robert Doisneau; annexe";Fresnes;094;Créteil;Ecole;;no_data;1;'
        ';;;;;;;;;;;;\r\n')


def test_json_keeps_types_and_says_when_and_by_which_profile() -> None:
    doc = json.loads(to_json(LINES, datetime(2026, 11, 27, 9, 0, tzinfo=UTC), "socle-default"))
    assert doc["evaluated_at"] == "2026-11-27T09:00:00+00:00"
    assert doc["profile_id"] == "socle-default"
    assert doc["schools"][0]["failing_rules"] == ["A1-download-floor", "E5-ram"]
    assert doc["schools"][0]["pupils"] == 143
    assert doc["schools"][1]["pupils"] is None and doc["schools"][1]["silent"] is True
    assert doc["schools"][1]["academie"] == "Créteil"
    assert doc["schools"][0]["download_pct_of_contract"] == 62.0
    assert doc["schools"][0]["measured_upload_mbps"] is None  # no figure: empty, never 0
    assert doc["schools"][1]["contract_provider"] is None
    assert doc["schools"][0]["level_since"] == "2026-10-14T03:00:00+00:00"
    assert doc["schools"][1]["level_since"] is None  # never judged


def test_csv_cells_a_spreadsheet_would_run_are_neutralised() -> None:
    """A school name from the directory (or a room typed by a technician) that starts like a formula
    is quoted with an apostrophe, so a spreadsheet shows it instead of running it; numbers stay."""
    hostile = [SchoolLine("0350122T", '=HYPERLINK("http://x.example","clic")', "+Baulon", "-035", "@Rennes",
                          "\tEcole", 143, "not_ready", False, ())]
    row = to_csv(hostile).split("\r\n")[1]
    assert row.startswith('0350122T;"\'=HYPERLINK(""http://x.example"",""clic"")";\'+Baulon;\'-035;\'@Rennes;'
                          "'\tEcole;143;not_ready;0;")


def test_french_csv_has_french_headers_words_and_decimal_commas() -> None:
    from collector.dashboard.exports import COLUMNS, HEADERS_FR

    assert set(HEADERS_FR) == set(COLUMNS)  # every column has its French header
    text = to_csv(LINES, "fr")
    header, baulon, fresnes, _ = text.split("\r\n")
    assert header.startswith("UAI;Nom;Commune;Département;Académie;Type;Élèves;Niveau;Silencieuse;"
                             "Règles non respectées;Code commune (INSEE);Circonscription;Classes;"
                             "Fournisseur;")
    assert baulon == ("0350122T;Ecole primaire publique les Lucioles;Baulon;035;Rennes;Ecole;143;Non prête;"
                      "non;A1-download-floor E5-ram;35016;Circonscription d'inspection du 1er degré de Bruz;"
                      "6;Orange;fibre;100,0;50,0;62,0;;62,0;;2026-10-14T03:00:00+00:00")
    assert fresnes.startswith('0940176F;"Ecole élémentaire Robert Doisneau; annexe";Fresnes;094;Créteil;'
                              "Ecole;;Sans données;oui;;")
