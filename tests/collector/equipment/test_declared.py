"""Declared equipment from the command line: set, list, remove, the room spelt as the school's agents
spell it, refusals that say why."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.cli.main import main as collector_main
from collector.equipment.declared import parse_items
from collector.schools.directory import DirectoryError
from tests.collector_db import Harness


def test_set_list_and_remove(harness: Harness, db_url: str, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    harness.enroll()  # an agent in CM1 of 0350122T
    db = ["--db", db_url, "--data-dir", str(tmp_path)]
    assert collector_main(["equipment", "set", "0350122T", "--room", "cm1", "--item", "TBI", "--count", "1",
                           "--by", "ERUN", *db]) == 0
    assert "added: 0350122T CM1: interactive_whiteboard × 1" in capsys.readouterr().out
    assert collector_main(["equipment", "set", "0350122T", "--room", "CM1", "--item", "tbi", "--count", "1",
                           "--by", "ERUN", *db]) == 0
    assert "unchanged" in capsys.readouterr().out
    assert collector_main(["equipment", "set", "0350122T", "--item", "armoire de recharge", "--count", "0",
                           "--by", "ERUN", *db]) == 0
    assert collector_main(["equipment", "list", "0350122T", *db]) == 0
    lines = capsys.readouterr().out.splitlines()[-2:]
    assert [line.split("\t")[:5] for line in lines] == [
        ["0350122T", "(school)", "charging_cabinet", "0", "ERUN"],
        ["0350122T", "CM1", "interactive_whiteboard", "1", "ERUN"]]
    assert collector_main(["equipment", "remove", "0350122T", "--room", "CM1", "--item", "TBI", *db]) == 0
    assert collector_main(["equipment", "remove", "0350122T", "--room", "CM1", "--item", "TBI", *db]) == 1
    assert "nothing declared: 0350122T CM1: interactive_whiteboard" in capsys.readouterr().out


def test_refusals_say_why(harness: Harness, db_url: str, tmp_path: Path,
                          capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--db", db_url, "--data-dir", str(tmp_path)]
    with pytest.raises(SystemExit):
        collector_main(["equipment", "set", "0350122T", "--item", "chaise", "--count", "1", *db])
    assert "'chaise' is not an equipment item" in capsys.readouterr().err
    assert collector_main(["equipment", "set", "0350122T", "--item", "tablet", "--count", "-1", *db]) == 2
    assert "count: Input should be greater than or equal to 0" in capsys.readouterr().err
    assert collector_main(["equipment", "set", "0350165P", "--item", "tablet", "--count", "4", *db]) == 1
    assert "no school 0350165P in this collector" in capsys.readouterr().err
    not_csv = tmp_path / "contrats.csv"
    not_csv.write_text("uai;provider\n0350122T;Orange\n", encoding="utf-8")
    assert collector_main(["equipment", "import", str(not_csv), *db]) == 2
    assert "not an equipment file: no column item, count" in capsys.readouterr().err


def test_french_headers_and_a_comma_file() -> None:
    rows, problems = parse_items("UAI,Salle,Équipement,Nombre\n0350122T,CP,Écran interactif,2\n".encode())
    assert problems == []
    assert [(n, d.room, d.item.value, d.count) for n, d in rows] == [(2, "CP", "interactive_display", 2)]
    with pytest.raises(DirectoryError):
        parse_items(b"a;b\n1;2\n")
