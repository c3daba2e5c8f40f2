"""Import of the national school directory ("Annuaire de l'éducation", open data).

The Ministry's export (data.education.gouv.fr, dataset ``fr-en-annuaire-education``)
is a semicolon-separated CSV in UTF-8 with a byte-order mark and CRLF line ends,
header labels on the first line, for example::

    Identifiant_de_l_etablissement;Nom_etablissement;Type_etablissement;...;Nom_commune;Code_departement;...
    0350122T;Ecole primaire publique les Lucioles;Ecole;Public;...;Baulon;035;...;143;...

The same dataset exported as JSON (one array of records with lowercase field
names) is read too. The 2026 export has no ``Nombre_d_eleves`` column: the pupil
count then stays unknown (None), never 0. The separate pupil-count dataset
(``fr-en-ecoles-effectifs-nb_classes``, key ``Numéro de l'école``) can be joined
with :func:`read_pupil_counts`.

Re-importing updates schools in place (by UAI) and leaves identical ones
untouched. A bad row is reported with its line number and skipped; it never
stops the import.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.db.models import School
from config.uai import UaiError, validate_uai
from config.wire import SchoolPublic

log = logging.getLogger(__name__)

# Our field -> the directory's column names (CSV labels, then JSON API names).
COLUMNS: dict[str, tuple[str, ...]] = {
    "uai": ("Identifiant_de_l_etablissement", "identifiant_de_l_etablissement"),
    "name": ("Nom_etablissement", "nom_etablissement"),
    "school_type": ("Type_etablissement", "type_etablissement"),
    "commune": ("Nom_commune", "nom_commune"),
    "departement": ("Code_departement", "code_departement"),
    "academie": ("Libelle_academie", "libelle_academie"),
    "pupils": ("Nombre_d_eleves", "nombre_d_eleves"),
}
REQUIRED = ("uai", "name", "commune")
_FIELDS = ("name", "commune", "departement", "academie", "school_type", "pupils")

# The pupil-count dataset (rentrée, UAI, total pupils), with label or API headers.
PUPIL_COLUMNS = {
    "year": ("Rentrée scolaire", "rentree_scolaire"),
    "uai": ("Numéro de l'école", "numero_ecole"),
    "pupils": ("Nombre total d'élèves", "nombre_total_eleves"),
}


class DirectoryError(Exception):
    """The file cannot be read as a directory export at all (not a row problem)."""


@dataclass(frozen=True)
class RowProblem:
    """A row that was skipped or noted, and why."""

    line: int
    message: str


@dataclass
class ImportResult:
    """What an import did."""

    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowProblem] = field(default_factory=list)
    duplicates: list[RowProblem] = field(default_factory=list)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        log.warning("directory file is not UTF-8; reading it as Windows-1252")
        return data.decode("cp1252")


def _pick(header: list[str], names: tuple[str, ...]) -> str | None:
    return next((n for n in names if n in header), None)


def _records(data: bytes) -> tuple[list[tuple[int, dict[str, Any]]], list[str]]:
    """(line, record) pairs and the column names, from CSV or JSON bytes."""
    text = _decode(data)
    if text.lstrip().startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DirectoryError(f"not valid JSON: {exc}") from None
        if not all(isinstance(i, dict) for i in items):
            raise DirectoryError("JSON export: expected an array of records")
        header = sorted({k for i in items for k in i})
        # JSON records have no lines: number them as the CSV would (header = line 1).
        return [(n + 2, i) for n, i in enumerate(items)], header
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise DirectoryError("the file is empty") from None
    out: list[tuple[int, dict[str, Any]]] = []
    for row in reader:
        if not row or all(not c.strip() for c in row):
            continue
        line = reader.line_num
        if len(row) != len(header):
            out.append((line, {"__error__": f"{len(row)} fields where the header has {len(header)}"}))
            continue
        out.append((line, dict(zip(header, row, strict=True))))
    return out, header


def _text(value: Any) -> str | None:
    if value is None:
        return None
    s = str(value).strip()
    return s or None


def _pupils(value: Any) -> int | None:
    s = _text(value)
    if s is None:
        return None
    try:
        n = int(s.replace(" ", "").replace("\u202f", ""))
    except ValueError:
        raise ValueError(f"pupil count {s!r} is not a whole number") from None
    if n < 0:
        raise ValueError(f"pupil count {n} is negative")
    return n


def parse_directory(data: bytes) -> tuple[list[tuple[int, SchoolPublic]], list[RowProblem]]:
    """Schools from a directory export (CSV or JSON), each with its line; and the bad rows."""
    records, header = _records(data)
    cols = {f: _pick(header, names) for f, names in COLUMNS.items()}
    missing = [COLUMNS[f][0] for f in REQUIRED if cols[f] is None]
    if missing:
        raise DirectoryError("not an 'Annuaire de l'éducation' export: no column " + ", ".join(missing))
    schools: list[tuple[int, SchoolPublic]] = []
    problems: list[RowProblem] = []
    for line, rec in records:
        if "__error__" in rec:
            problems.append(RowProblem(line, rec["__error__"]))
            continue

        def get(f: str, rec: dict[str, Any] = rec) -> Any:
            col = cols[f]
            return None if col is None else rec.get(col)

        try:
            uai = validate_uai(_text(get("uai")) or "")
            name, commune = _text(get("name")), _text(get("commune"))
            if name is None or commune is None:
                raise ValueError("no " + ("name" if name is None else "commune"))
            school = SchoolPublic(uai=uai, name=name[:200], commune=commune[:200],
                                  departement=_text(get("departement")),
                                  academie=_text(get("academie")),
                                  school_type=_text(get("school_type")), pupils=_pupils(get("pupils")))
        except (UaiError, ValueError, ValidationError) as exc:
            msg = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
            problems.append(RowProblem(line, msg))
            continue
        schools.append((line, school))
    return schools, problems


def read_pupil_counts(data: bytes) -> tuple[dict[str, int], list[RowProblem]]:
    """UAI -> pupils from the pupil-count dataset; the latest school year wins."""
    records, header = _records(data)
    cols = {f: _pick(header, names) for f, names in PUPIL_COLUMNS.items()}
    if cols["uai"] is None or cols["pupils"] is None:
        raise DirectoryError("not a pupil-count export: no column "
                             f"{PUPIL_COLUMNS['uai'][0]!r} or {PUPIL_COLUMNS['pupils'][0]!r}")
    best: dict[str, tuple[str, int]] = {}
    problems: list[RowProblem] = []
    for line, rec in records:
        if "__error__" in rec:
            problems.append(RowProblem(line, rec["__error__"]))
            continue
        try:
            uai = validate_uai(_text(rec.get(cols["uai"] or "")) or "")
            pupils = _pupils(rec.get(cols["pupils"] or ""))
        except (UaiError, ValueError) as exc:
            problems.append(RowProblem(line, str(exc)))
            continue
        year = _text(rec.get(cols["year"] or "")) or ""
        if pupils is not None and (uai not in best or year >= best[uai][0]):
            best[uai] = (year, pupils)
    return {u: p for u, (_, p) in best.items()}, problems


def apply(session: Session, schools: list[tuple[int, SchoolPublic]], now: datetime,
          result: ImportResult) -> None:
    """Add or update schools by UAI; an identical school is left as it is."""
    seen: dict[str, int] = {}
    uais = [s.uai for _, s in schools]
    existing: dict[str, School] = {}
    for i in range(0, len(uais), 500):  # one query per 500 schools, not one per school
        existing.update((r.uai, r) for r in session.scalars(select(School).where(
            School.uai.in_(uais[i : i + 500]))))
    for line, school in schools:
        if school.uai in seen:
            result.duplicates.append(RowProblem(
                line, f"{school.uai} already on line {seen[school.uai]} (one school on several "
                      "lines): the first line is kept"))
            continue
        seen[school.uai] = line
        row = existing.get(school.uai)
        if row is None:
            row = School(uai=school.uai, created_at=now, **{f: getattr(school, f) for f in _FIELDS})
            session.add(row)
            existing[school.uai] = row
            result.added += 1
            continue
        changed = False
        for f in _FIELDS:
            value = getattr(school, f)
            # An export without pupil counts does not erase one known from elsewhere.
            if (value is not None or f in ("name", "commune")) and getattr(row, f) != value:
                setattr(row, f, value)
                changed = True
        result.updated += changed
        result.unchanged += not changed


def import_directory(session: Session, path: Path, now: datetime,
                     pupils_path: Path | None = None) -> ImportResult:
    """Import a directory export (and optionally a pupil-count file) into the schools table.

    The caller commits. Raises :class:`DirectoryError` when the file is not a
    directory export at all.
    """
    schools, problems = parse_directory(path.read_bytes())
    result = ImportResult(rows=len(schools) + len(problems), errors=problems)
    if pupils_path is not None:
        counts, pupil_problems = read_pupil_counts(pupils_path.read_bytes())
        result.errors.extend(RowProblem(p.line, f"{pupils_path.name}: {p.message}")
                             for p in pupil_problems)
        schools = [(line, s.model_copy(update={"pupils": counts[s.uai]}) if s.uai in counts else s)
                   for line, s in schools]
    apply(session, schools, now, result)
    log.info("directory import of %s: %d added, %d updated, %d unchanged, %d bad rows", path,
             result.added, result.updated, result.unchanged, len(result.errors))
    return result
