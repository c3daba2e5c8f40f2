"""Hostile directory input: SQLite and PostgreSQL accept the same rows, and each bad row is reported by its
line with its reason while the good rows are imported (the hostile-input issue, items 8 and the field
rules). The files are the real 035 and 094 exports with a few cells changed by the test."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import String, func, select
from sqlalchemy.orm import Session

from collector.cli.main import main as collector_main
from collector.db.engine import create_schema, make_engine, session_factory
from collector.db.models import School, SchoolContract
from collector.schools.importing import import_directory
from config.school_fields import LIMITS, plain_text
from config.wire import ClassesSource, SchoolPublic
from tests.conftest import FIXTURES

FIX = FIXTURES / "schools"
DIR_2023 = FIX / "annuaire-education-2023-dep035.csv"
DIR_2026_JSON = FIX / "annuaire-education-2026-dep094-ecoles-publiques.json"
NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


@pytest.fixture
def session(db_url: str) -> Session:
    """A session on a migrated database, SQLite and PostgreSQL."""
    engine = make_engine(db_url)
    create_schema(engine)
    with session_factory(engine)() as s:
        yield s


def _cell(line: bytes, column: int, value: bytes) -> bytes:
    cells = line.split(b";")
    cells[column] = value
    return b";".join(cells)


def _hostile_035(tmp_path: Path) -> Path:
    """The 035 export with seven écoles' lines spoiled, each in one cell."""
    lines = DIR_2023.read_bytes().split(b"\r\n")
    header = lines[0].decode("utf-8-sig").split(";")
    col = {name: i for i, name in enumerate(header)}
    spoil = {
        3: ("Libelle_academie", "Rennes " * 30),  # 210 characters: over académie's 100
        4: ("Nom_etablissement", "Ecole\x00primaire"),  # NUL: PostgreSQL refuses it in text
        5: ("Nom_commune", "Chavagne\x1b[31m"),  # an escape sequence
        7: ("Code_commune", "35X99"),
        8: ("nom_circonscription", "Circonscription " * 20),  # 320 characters
        9: ("Mail", "pas une adresse"),
        10: ("Code_departement", "Ille-et-Vilaine"),  # 15 characters: over the column's 8
    }
    for n, (name, value) in spoil.items():
        lines[n - 1] = _cell(lines[n - 1], col[name], value.encode())
    out = tmp_path / "hostile.csv"
    out.write_bytes(b"\r\n".join(lines))
    return out


def test_each_bad_directory_row_is_reported_and_the_good_ones_imported(session: Session,
                                                                        tmp_path: Path) -> None:
    result = import_directory(session, _hostile_035(tmp_path), NOW)
    session.commit()  # on PostgreSQL too: nothing refused reaches the database
    assert [(p.line, p.message.split(":")[0]) for p in result.errors] == [
        (3, "Libelle_academie"), (4, "Nom_etablissement"), (5, "Nom_commune"), (7, "Code_commune"),
        (8, "nom_circonscription"), (9, "Mail"), (10, "Code_departement")]
    reasons = [p.message for p in result.errors]
    assert "at most 100 characters" in reasons[0]
    assert "U+0000" in reasons[1] and "U+001B" in reasons[2]
    assert "not an INSEE code" in reasons[3] and "not a mail address" in reasons[5]
    assert result.added == 684 - 7
    assert session.scalar(select(func.count()).select_from(School)) == 677
    assert session.get(School, "0350122T") is not None  # line 2, before the spoiled lines
    assert session.get(School, "0350165P") is None  # line 3
    assert session.get(School, "0350270D") is not None  # line 11, after them


def test_json_export_with_hostile_values_is_read_the_same_on_both_databases(session: Session,
                                                                             tmp_path: Path) -> None:
    records = json.loads(DIR_2026_JSON.read_bytes())
    records[0]["nombre_d_eleves"] = 10**12  # past a 32-bit integer column
    records[1]["latitude"] = 123.0
    records[2]["libelle_academie"] = "\ud800"  # a lone surrogate: no UTF-8 form
    records[3]["nom_etablissement"] = "x" * 201
    hostile = tmp_path / "hostile.json"
    hostile.write_text(json.dumps(records), encoding="utf-8")
    result = import_directory(session, hostile, NOW)
    session.commit()
    assert [(p.line, p.message.split(":")[0]) for p in result.errors] == [
        (2, "nombre_d_eleves"), (3, "latitude"), (4, "libelle_academie"), (5, "nom_etablissement")]
    assert result.added == 611 - 4


def test_school_add_refuses_a_control_character_naming_the_field(db_url: str,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--db", db_url, "school", "add", "0350122T", "--commune", "Baulon"]
    assert collector_main([*args, "--name", "Les\x00Lucioles"]) == 2
    assert "name: Value error, contains the control character U+0000" in capsys.readouterr().err
    assert collector_main([*args, "--name", "Les Lucioles", "--academie", "R" * 101]) == 2
    assert "academie: String should have at most 100 characters" in capsys.readouterr().err
    assert collector_main([*args, "--name", "Les Lucioles", "--commune-code", "35016"]) == 0


@pytest.mark.parametrize(("text", "ok"), [
    ("Ecole élémentaire Robert Doisneau", True), ("École « Les Lucioles » — Saint-Denis (974)", True),
    ("tab\there", False), ("line\nbreak", False), ("nul\x00", False), ("del\x7f", False),
    ("c1\x85", False), ("sep\u2028", False), ("zero\u200dwidth joiner", True),
])
def test_plain_text_rule(text: str, ok: bool) -> None:
    if ok:
        assert plain_text(text) == text
    else:
        with pytest.raises(ValueError, match="control character"):
            plain_text(text)


# Each text column of the school tables, and the model field that guards it.
GUARDS = {
    "schools.uai": (SchoolPublic, "uai"), "schools.name": (SchoolPublic, "name"),
    "schools.commune": (SchoolPublic, "commune"), "schools.departement": (SchoolPublic, "departement"),
    "schools.academie": (SchoolPublic, "academie"), "schools.school_type": (SchoolPublic, "school_type"),
    "schools.commune_code": (SchoolPublic, "commune_code"),
    "schools.circonscription": (SchoolPublic, "circonscription"),
    "schools.circonscription_code": (SchoolPublic, "circonscription_code"),
    "schools.email": (SchoolPublic, "email"),
    "schools.priority_education": (SchoolPublic, "priority_education"),
    "schools.sector": (SchoolPublic, "sector"), "schools.state": (SchoolPublic, "state"),
    "schools.classes_origin": (ClassesSource, "origin"), "schools.classes_file": (ClassesSource, "file"),
}


def test_every_school_text_column_has_a_rule_no_longer_than_itself() -> None:
    columns = {f"{t.name}.{c.name}": c for t in (School.__table__, SchoolContract.__table__)
               for c in t.columns if isinstance(c.type, String)}
    school_columns = {k for k in columns if k.startswith("schools.")}
    assert school_columns == set(GUARDS)
    for key, (model, field) in GUARDS.items():
        length = columns[key].type.length
        assert length is not None
        too_long = ("a" * (length - 5) + "@ac.fr") if field == "email" else "a" * (length + 1)
        with pytest.raises(ValidationError):
            model.__pydantic_validator__.validate_assignment(model.model_construct(), field, too_long)
    for field in ("provider", "contract_source"):
        column = columns[f"school_contracts.{field.removeprefix('contract_')}"]
        assert LIMITS[field] <= (column.type.length or 0)
