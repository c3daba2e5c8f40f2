"""School directory import on real 'Annuaire de l'éducation' exports (tests/fixtures/schools)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from collector.cli.main import main as collector_main
from collector.db.engine import create_schema, make_engine, session_factory
from collector.db.models import School
from collector.schools.counts import read_counts
from collector.schools.directory import DirectoryError, parse_directory
from collector.schools.importing import import_directory
from tests.conftest import FIXTURES

FIX = FIXTURES / "schools"
DIR_2023 = FIX / "annuaire-education-2023-dep035.csv"
DIR_2026 = FIX / "annuaire-education-2026-dep094-ecoles-publiques.csv"
DIR_2026_JSON = FIX / "annuaire-education-2026-dep094-ecoles-publiques.json"
PUPILS_2022 = FIX / "ecoles-effectifs-nb-classes-2022-dep035-labels.csv"
NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)

# The 035 export's rows that are not primary schools, by Type_etablissement (SOURCES.md).
NOT_PRIMARY_035 = {"Collège": 117, "Lycée": 86, "Service Administratif": 42, "Médico-social": 39,
                   "Autre": 11, "(no type)": 9, "Information et orientation": 5, "EREA": 2}


@pytest.fixture
def session(db_url: str) -> Session:
    """A session on a migrated database, SQLite and PostgreSQL."""
    engine = make_engine(db_url)
    create_schema(engine)
    with session_factory(engine)() as s:
        yield s


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(School)) or 0


def test_2023_export_keeps_the_open_primary_schools_and_counts_what_it_leaves_out(session: Session) -> None:
    result = import_directory(session, DIR_2023, NOW)
    session.commit()
    # 996 data lines: 685 écoles, one of them closing (Ste Catherine de Sienne, Saint-Lunaire).
    assert (result.rows, result.added, result.updated) == (996, 684, 0)
    assert result.errors == result.duplicates == []
    assert result.skipped_kinds == NOT_PRIMARY_035 and result.closing == 1
    assert count(session) == 684
    assert session.get(School, "0351383N") is None  # "A FERMER"
    assert session.scalar(select(func.count()).where(School.school_type != "Ecole")) == 0
    baulon = session.get(School, "0350122T")
    assert baulon is not None
    assert (baulon.name, baulon.commune, baulon.pupils) == (
        "Ecole primaire publique les Lucioles", "Baulon", 143)
    assert (baulon.school_type, baulon.departement, baulon.academie) == ("Ecole", "035", "Rennes")


def test_2023_export_keeps_code_commune_circonscription_position_mail_rep_sector_state(
        session: Session) -> None:
    import_directory(session, DIR_2023, NOW)
    session.commit()
    baulon = session.get(School, "0350122T")
    assert baulon is not None
    assert (baulon.commune_code, baulon.circonscription) == (
        "35016", "Circonscription d'inspection du 1er degré de Bruz")
    # The 2023 export has no code_circonscription: the circonscription's own row (code_nature 809,
    # line 810 of the file) gives its UAI.
    assert baulon.circonscription_code == "0350739N"
    assert (baulon.latitude, baulon.longitude) == (47.98614492070133, -1.9294895003671315)
    assert (baulon.email, baulon.priority_education, baulon.sector, baulon.state) == (
        "ecole.0350122T@ac-rennes.fr", None, "public", "open")
    private = session.get(School, "0351197L")  # Ecole primaire privée l'Arche de Noé, Bourgbarré
    assert private is not None and (private.sector, private.commune_code) == ("private", "35032")
    rep = session.scalars(select(School.priority_education).where(School.priority_education.is_not(None)))
    assert sorted(set(rep)) == ["REP", "REP+"]
    assert session.scalar(select(func.count()).where(School.priority_education == "REP+")) == 5
    assert session.scalar(select(func.count()).where(School.commune_code.is_(None))) == 0
    assert session.scalar(select(func.count()).where(School.circonscription_code.is_(None))) == 0


def test_every_kind_on_request(session: Session) -> None:
    result = import_directory(session, DIR_2023, NOW, every_kind=True)
    session.commit()
    # Three establishments span two lines each (etablissement_multi_lignes=1): the first is kept.
    assert (result.added, result.skipped_kinds, result.closing, result.errors) == (993, {}, 0, [])
    assert [(d.line, d.message.split()[0]) for d in result.duplicates] == [
        (940, "0352072M"), (961, "0350852L"), (974, "0350778F")]
    closing = session.get(School, "0351383N")
    assert closing is not None and closing.state == "closing"


def test_reimport_changes_nothing(session: Session) -> None:
    import_directory(session, DIR_2023, NOW, PUPILS_2022)
    session.commit()
    again = import_directory(session, DIR_2023, NOW, PUPILS_2022)
    session.commit()
    assert (again.added, again.updated, again.unchanged, again.classes_set) == (0, 0, 684, 0)
    assert count(session) == 684


def test_2026_export_has_no_pupil_count_so_pupils_stay_unknown(session: Session) -> None:
    result = import_directory(session, DIR_2026, NOW)
    session.commit()
    assert (result.rows, result.added, result.closing, result.errors) == (613, 611, 2, [])
    fresnes = session.get(School, "0940176F")
    assert fresnes is not None
    assert (fresnes.name, fresnes.commune, fresnes.departement, fresnes.academie) == (
        "Ecole élémentaire Robert Doisneau", "Fresnes", "094", "Créteil")
    assert (fresnes.commune_code, fresnes.circonscription_code) == ("94034", "0940927X")
    assert fresnes.pupils is None
    assert session.scalar(select(func.count()).where(School.pupils.is_not(None))) == 0


def test_json_export_gives_the_same_schools_as_the_csv() -> None:
    from_csv = parse_directory(DIR_2026.read_bytes())
    from_json = parse_directory(DIR_2026_JSON.read_bytes())
    assert from_json.problems == []
    assert [s for _, s in from_json.schools] == [s for _, s in from_csv.schools]
    assert len(from_json.schools) == 611


def test_broken_rows_are_reported_by_line_and_do_not_stop_the_import(session: Session,
                                                                       tmp_path: Path) -> None:
    lines = DIR_2023.read_bytes().split(b"\r\n")
    # Line 3 (Cardroc): a wrong check letter. Line 5: a pupil count that is not a number.
    # Line 6: the row cut short.
    lines[2] = lines[2].replace(b"0350165P;", b"0350165X;", 1)
    assert lines[4].startswith(b"0350196Y;")
    lines[4] = lines[4].replace(b";230;", b";deux cent trente;", 1)
    lines[5] = b";".join(lines[5].split(b";")[:10])
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"\r\n".join(lines))
    result = import_directory(session, broken, NOW)
    session.commit()
    assert [e.line for e in result.errors] == [3, 5, 6]
    assert "check letter" in result.errors[0].message or "0350165X" in result.errors[0].message
    assert "deux cent trente" in result.errors[1].message
    assert "10 fields where the header has 69" in result.errors[2].message
    assert result.added == 681
    assert session.get(School, "0350165P") is None
    assert session.get(School, "0350122T") is not None  # the line before the broken ones
    assert session.get(School, "0350210N") is None  # line 6, cut short
    assert session.get(School, "0350266Z") is not None  # line 10, after the broken ones


def test_counts_join_pupils_and_classes_from_the_effectifs_file(session: Session) -> None:
    counts, problems = read_counts(PUPILS_2022.read_bytes())
    assert problems == []
    assert (counts["0350103X"].pupils, counts["0350103X"].classes, counts["0350103X"].year) == (289, 12, 2022)
    assert (counts["0350165P"].pupils, counts["0350165P"].classes) == (71, 3)
    import_directory(session, DIR_2026, NOW)  # other département: untouched by the join
    result = import_directory(session, DIR_2023, NOW, counts_path=PUPILS_2022)
    session.commit()
    assert result.errors == []
    assert (result.counts_file, result.counts_years, result.classes_set) == (PUPILS_2022.name, [2022], 674)
    chevre = session.get(School, "0350103X")
    assert chevre is not None and (chevre.pupils, chevre.classes) == (289, 12)
    assert (chevre.classes_origin, chevre.classes_file, chevre.classes_year) == (
        "import", "ecoles-effectifs-nb-classes-2022-dep035-labels.csv", 2022)
    fresnes = session.get(School, "0940176F")
    assert fresnes is not None and fresnes.classes is None


def test_not_a_directory_file_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "x.csv"
    other.write_text("a;b\n1;2\n", encoding="utf-8")
    with pytest.raises(DirectoryError, match="Identifiant_de_l_etablissement"):
        parse_directory(other.read_bytes())


def test_cli_school_import_prints_every_count(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    assert collector_main(["--data-dir", str(data), "school", "import", str(DIR_2023),
                           "--pupils", str(PUPILS_2022)]) == 0
    out = capsys.readouterr().out
    assert ("996 rows: 684 added, 0 updated, 0 unchanged; skipped 311 not primary schools (Collège 117, "
            "Lycée 86, Service Administratif 42, Médico-social 39, Autre 11, (no type) 9, "
            "Information et orientation 5, EREA 2), 1 closing; 0 bad rows") in out
    assert ("classes from ecoles-effectifs-nb-classes-2022-dep035-labels.csv (rentrée 2022): 674 set, "
            "0 kept as an admin set them") in out
    assert collector_main(["school", "import", str(DIR_2026), "--data-dir", str(data)]) == 0
    assert "613 rows: 611 added, 0 updated, 0 unchanged; skipped 0 not primary schools, 2 closing" in (
        capsys.readouterr().out)
    assert collector_main(["school", "import", str(DIR_2026), "--data-dir", str(data), "--all"]) == 0
    assert "613 rows: 2 added, 0 updated, 611 unchanged" in capsys.readouterr().out
    missing = tmp_path / "nope.csv"
    assert collector_main(["--data-dir", str(data), "school", "import", str(missing)]) == 2
    assert "cannot import" in capsys.readouterr().err
