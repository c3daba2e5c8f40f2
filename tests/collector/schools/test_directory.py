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
from collector.schools.directory import DirectoryError, import_directory, parse_directory, read_pupil_counts
from tests.conftest import FIXTURES

FIX = FIXTURES / "schools"
DIR_2023 = FIX / "annuaire-education-2023-dep035.csv"
DIR_2026 = FIX / "annuaire-education-2026-dep094-ecoles-publiques.csv"
DIR_2026_JSON = FIX / "annuaire-education-2026-dep094-ecoles-publiques.json"
PUPILS_2022 = FIX / "ecoles-effectifs-nb-classes-2022-dep035-labels.csv"
NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


@pytest.fixture
def session(db_url: str) -> Session:
    """A session on a migrated database, SQLite and PostgreSQL."""
    engine = make_engine(db_url)
    create_schema(engine)
    with session_factory(engine)() as s:
        yield s


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(School)) or 0


def test_2023_export_schools_have_commune_type_academie_and_pupils(session: Session) -> None:
    result = import_directory(session, DIR_2023, NOW)
    session.commit()
    # 996 data lines; three establishments span two lines each (etablissement_multi_lignes=1).
    assert (result.rows, result.added, result.updated, result.errors) == (996, 993, 0, [])
    assert [(d.line, d.message.split()[0]) for d in result.duplicates] == [
        (940, "0352072M"), (961, "0350852L"), (974, "0350778F")]
    assert count(session) == 993
    baulon = session.get(School, "0350122T")
    assert baulon is not None
    assert (baulon.name, baulon.commune, baulon.pupils) == (
        "Ecole primaire publique les Lucioles", "Baulon", 143)
    assert (baulon.school_type, baulon.departement, baulon.academie) == ("Ecole", "035", "Rennes")
    cardroc = session.get(School, "0350165P")
    assert cardroc is not None and (cardroc.commune, cardroc.pupils) == ("Cardroc", 63)


def test_reimport_changes_nothing(session: Session) -> None:
    import_directory(session, DIR_2023, NOW)
    session.commit()
    again = import_directory(session, DIR_2023, NOW)
    session.commit()
    assert (again.added, again.updated, again.unchanged) == (0, 0, 993)
    assert count(session) == 993


def test_2026_export_has_no_pupil_count_so_pupils_stay_unknown(session: Session) -> None:
    result = import_directory(session, DIR_2026, NOW)
    session.commit()
    assert (result.rows, result.added, result.errors) == (613, 613, [])
    fresnes = session.get(School, "0940176F")
    assert fresnes is not None
    assert (fresnes.name, fresnes.commune, fresnes.departement, fresnes.academie) == (
        "Ecole élémentaire Robert Doisneau", "Fresnes", "094", "Créteil")
    assert fresnes.pupils is None
    assert session.scalar(select(func.count()).where(School.pupils.is_not(None))) == 0


def test_json_export_gives_the_same_schools_as_the_csv() -> None:
    from_csv, _ = parse_directory(DIR_2026.read_bytes())
    from_json, problems = parse_directory(DIR_2026_JSON.read_bytes())
    assert problems == []
    assert [s for _, s in from_json] == [s for _, s in from_csv]


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
    assert result.added == 990
    assert session.get(School, "0350165P") is None
    assert session.get(School, "0350122T") is not None  # the line before the broken ones
    assert session.get(School, "0350210N") is None  # line 6, cut short
    assert session.get(School, "0350266Z") is not None  # line 10, after the broken ones


def test_pupil_counts_join_from_the_effectifs_file(session: Session) -> None:
    counts, problems = read_pupil_counts(PUPILS_2022.read_bytes())
    assert problems == []
    assert counts["0350103X"] == 289  # Acigné, le Chevré: rentrée 2022
    assert counts["0350165P"] == 71
    import_directory(session, DIR_2026, NOW)  # other département: untouched by the join
    result = import_directory(session, DIR_2023, NOW, pupils_path=PUPILS_2022)
    session.commit()
    chevre = session.get(School, "0350103X")
    assert chevre is not None and chevre.pupils == 289
    assert result.errors == []


def test_not_a_directory_file_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "x.csv"
    other.write_text("a;b\n1;2\n", encoding="utf-8")
    with pytest.raises(DirectoryError, match="Identifiant_de_l_etablissement"):
        parse_directory(other.read_bytes())


def test_cli_school_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    assert collector_main(["--data-dir", str(data), "school", "import", str(DIR_2026)]) == 0
    assert "613 rows: 613 added, 0 updated, 0 unchanged, 0 skipped" in capsys.readouterr().out
    assert collector_main(["school", "import", str(DIR_2026), "--data-dir", str(data)]) == 0
    assert "0 added, 0 updated, 613 unchanged" in capsys.readouterr().out
    missing = tmp_path / "nope.csv"
    assert collector_main(["--data-dir", str(data), "school", "import", str(missing)]) == 2
    assert "cannot import" in capsys.readouterr().err
