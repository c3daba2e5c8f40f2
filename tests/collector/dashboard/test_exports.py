"""CSV and JSON exports of the school list."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from collector.dashboard.exports import to_csv, to_json
from collector.dashboard.overview import SchoolLine

LINES = [
    SchoolLine("0350122T", "Ecole primaire publique les Lucioles", "Baulon", "035", "Rennes", "Ecole", 143,
               "not_ready", False, ("A1-download-floor", "E5-ram")),
    SchoolLine("0940176F", "Ecole élémentaire Robert Doisneau; annexe", "Fresnes", "094", "Créteil", "Ecole",
               None, "no_data", True, ()),
]


def test_csv_is_semicolon_crlf_with_unknowns_empty_and_quoting_when_needed() -> None:
    assert to_csv(LINES) == (
        "uai;name;commune;departement;academie;school_type;pupils;level;silent;failing_rules\r\n"
        "0350122T;Ecole primaire publique les Lucioles;Baulon;035;Rennes;Ecole;143;not_ready;0;"
        "A1-download-floor E5-ram\r\n"
        '0940176F;"Ecole élémentaire Robert Doisneau; annexe";Fresnes;094;Créteil;Ecole;;no_data;1;\r\n')


def test_json_keeps_types_and_says_when_and_by_which_profile() -> None:
    doc = json.loads(to_json(LINES, datetime(2026, 11, 27, 9, 0, tzinfo=UTC), "socle-default"))
    assert doc["evaluated_at"] == "2026-11-27T09:00:00+00:00"
    assert doc["profile_id"] == "socle-default"
    assert doc["schools"][0]["failing_rules"] == ["A1-download-floor", "E5-ram"]
    assert doc["schools"][0]["pupils"] == 143
    assert doc["schools"][1]["pupils"] is None and doc["schools"][1]["silent"] is True
    assert doc["schools"][1]["academie"] == "Créteil"


def test_csv_cells_a_spreadsheet_would_run_are_neutralised() -> None:
    """A school name from the directory (or a room typed by a technician) that starts like a formula
    is quoted with an apostrophe, so a spreadsheet shows it instead of running it; numbers stay."""
    hostile = [SchoolLine("0350122T", '=HYPERLINK("http://x.example","clic")', "+Baulon", "-035", "@Rennes",
                          "\tEcole", 143, "not_ready", False, ())]
    row = to_csv(hostile).split("\r\n")[1]
    assert row == ('0350122T;"\'=HYPERLINK(""http://x.example"",""clic"")";\'+Baulon;\'-035;\'@Rennes;'
                   "'\tEcole;143;not_ready;0;")
