"""Reading the national school directory ("Annuaire de l'éducation", open data): pure parsers.

The Ministry's export (data.education.gouv.fr, dataset ``fr-en-annuaire-education``)
is a semicolon-separated CSV in UTF-8 with a byte-order mark and CRLF line ends,
header labels on the first line, for example::

    Identifiant_de_l_etablissement;Nom_etablissement;Type_etablissement;Statut_public_prive;...
    0350122T;Ecole primaire publique les Lucioles;Ecole;Public;...

and further on the same lines ``Code_commune;Nom_commune;Code_departement`` (``35016;Baulon;035``),
``Mail`` (``ecole.0350122T@ac-rennes.fr``), ``Appartenance_Education_Prioritaire`` (empty, ``REP``
or ``REP+``), ``Nombre_d_eleves`` (``143``), ``nom_circonscription;latitude;longitude``
(``Circonscription d'inspection du 1er degré de Bruz;47.98614492070133;-1.9294895003671315``),
``etat`` (``OUVERT``, ``A FERMER``) and ``code_nature`` (``151``).

The same dataset exported as JSON (one array of records with lowercase field
names) is read too. The 2026 export has no ``Nombre_d_eleves`` column: the pupil
count then stays unknown (None), never 0. It has ``code_circonscription`` (the
circonscription's own UAI); the 2023 export has not, but lists each
circonscription as a row of its own (``code_nature`` 809) whose name the schools'
``nom_circonscription`` repeats: its UAI is taken from there.

By default only primary schools are kept (``Type_etablissement`` "Ecole": écoles
maternelles, élémentaires and primaires) and those the directory marks as
closing (``etat`` "A FERMER") are left out; the others are counted by kind.
``every_kind`` keeps every row. A bad row is reported with its line number and
reason, naming the column, and never stops the reading.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from config.uai import UaiError, validate_uai
from config.wire import SchoolPublic

log = logging.getLogger(__name__)

# Our field -> the directory's column names (CSV labels, then JSON API names).
COLUMNS: dict[str, tuple[str, ...]] = {
    "uai": ("Identifiant_de_l_etablissement", "identifiant_de_l_etablissement"),
    "name": ("Nom_etablissement", "nom_etablissement"),
    "school_type": ("Type_etablissement", "type_etablissement"),
    "commune": ("Nom_commune", "nom_commune"),
    "commune_code": ("Code_commune", "code_commune"),
    "departement": ("Code_departement", "code_departement"),
    "academie": ("Libelle_academie", "libelle_academie"),
    "pupils": ("Nombre_d_eleves", "nombre_d_eleves"),
    "circonscription": ("nom_circonscription",),
    "circonscription_code": ("code_circonscription",),
    "latitude": ("latitude",),
    "longitude": ("longitude",),
    "email": ("Mail", "mail"),
    "priority_education": ("Appartenance_Education_Prioritaire", "appartenance_education_prioritaire"),
    "sector": ("Statut_public_prive", "statut_public_prive"),
    "state": ("etat",),
    "nature": ("code_nature",),
}
REQUIRED = ("uai", "name", "commune")
PRIMARY_TYPES = frozenset({"ecole", "école"})  # Type_etablissement of maternelles, élémentaires, primaires
CIRCONSCRIPTION_NATURE = "809"  # code_nature of "CIRCONSCRIPTIONS INSPECTION EDUC NAT"
_SECTORS = {"public": "public", "privé": "private", "prive": "private"}
_STATES = {"ouvert": "open", "a fermer": "closing", "à fermer": "closing", "a ouvrir": "opening",
           "à ouvrir": "opening", "ferme": "closed", "fermé": "closed"}
NO_TYPE = "(no type)"


class DirectoryError(Exception):
    """The file cannot be read as a directory export at all (not a row problem)."""


@dataclass(frozen=True)
class RowProblem:
    """A row that was skipped or noted, and why."""

    line: int
    message: str


@dataclass
class ParsedDirectory:
    """What a directory export holds: the schools kept (with their lines), the bad rows, what was left out."""

    rows: int = 0
    schools: list[tuple[int, SchoolPublic]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    skipped_kinds: Counter[str] = field(default_factory=Counter)  # Type_etablissement -> rows left out
    closing: int = 0  # primary schools left out as closing (or closed)
    fields: frozenset[str] = frozenset()  # the school fields the file has a column for


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        log.warning("directory file is not UTF-8; reading it as Windows-1252")
        return data.decode("cp1252")


def pick(header: list[str], names: tuple[str, ...]) -> str | None:
    """The first of ``names`` the header has."""
    return next((n for n in names if n in header), None)


def _csv_records(text: str, delimiter: str) -> tuple[list[tuple[int, dict[str, Any]]], list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise DirectoryError("the file is empty") from None
    except csv.Error as exc:
        raise DirectoryError(f"the header line cannot be read: {exc}") from None
    out: list[tuple[int, dict[str, Any]]] = []
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # a field past the csv module's limit: that row only
            out.append((reader.line_num, {"__error__": str(exc)}))
            continue
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            why = f"{len(row)} fields where the header has {len(header)}"
            out.append((reader.line_num, {"__error__": why}))
            continue
        out.append((reader.line_num, dict(zip(header, row, strict=True))))
    return out, header


def read_records(data: bytes, delimiters: str = ";") -> tuple[list[tuple[int, dict[str, Any]]], list[str]]:
    """(line, record) pairs and the column names, from CSV or JSON bytes.

    The CSV's delimiter is the first of ``delimiters`` its header line holds (else the
    first). A row that cannot be read holds ``{"__error__": reason}``.
    """
    text = _decode(data)
    if not text.lstrip().startswith("["):
        first = text.split("\n", 1)[0]
        return _csv_records(text, next((d for d in delimiters if d in first), delimiters[0]))
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DirectoryError(f"not valid JSON: {exc}") from None
    if not all(isinstance(i, dict) for i in items):
        raise DirectoryError("JSON export: expected an array of records")
    header = sorted({k for i in items for k in i})
    # JSON records have no lines: number them as the CSV would (header = line 1).
    return [(n + 2, i) for n, i in enumerate(items)], header


def text_of(value: Any) -> str | None:
    """A cell as text, stripped; None when empty."""
    if value is None:
        return None
    s = str(value).strip()
    return s or None


def column_errors(exc: ValidationError, cols: dict[str, str | None]) -> str:
    """A row's validation errors, each under the CSV column it came from (``cols``: field -> header)."""
    return "; ".join(f"{cols.get(str(e['loc'][0])) or e['loc'][0]}: {e['msg']}" if e["loc"] else e["msg"]
                     for e in exc.errors())


def whole_number(value: Any, column: str) -> int | None:
    """A count cell (``143``, ``1 204``) as an int; None when empty; a ValueError naming ``column``."""
    s = text_of(value)
    if s is None:
        return None
    try:
        n = int(s.replace(" ", "").replace("\u202f", "").replace("\xa0", ""))
    except ValueError:
        raise ValueError(f"{column}: {s!r} is not a whole number") from None
    if n < 0:
        raise ValueError(f"{column}: {n} is negative")
    return n


def _number(value: Any, column: str) -> float | None:
    s = text_of(value)
    if s is None:
        return None
    try:
        x = float(s)
    except ValueError:
        raise ValueError(f"{column}: {s!r} is not a number") from None
    if not math.isfinite(x):
        raise ValueError(f"{column}: {s!r} is not a finite number")
    return x


def _choice(value: Any, column: str, choices: dict[str, str]) -> str | None:
    s = text_of(value)
    if s is None:
        return None
    try:
        return choices[" ".join(s.casefold().split())]
    except KeyError:
        raise ValueError(f"{column}: {s!r} is not one of the directory's values") from None


def _priority(value: Any, column: str) -> str | None:
    s = (text_of(value) or "").upper().replace(" ", "")
    if not s or s.startswith("HORS"):
        return None
    if s not in ("REP", "REP+"):
        raise ValueError(f"{column}: {value!r} is not REP or REP+")
    return s


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def _circonscription_codes(records: list[tuple[int, dict[str, Any]]],
                           cols: dict[str, str | None]) -> dict[str, str]:
    """Folded circonscription name -> its UAI, from the directory's own rows for circonscriptions."""
    name_col, nature_col, uai_col = cols["name"], cols["nature"], cols["uai"]
    if nature_col is None or name_col is None or uai_col is None:
        return {}
    out = {}
    for _, rec in records:
        name = text_of(rec.get(name_col))
        if text_of(rec.get(nature_col)) == CIRCONSCRIPTION_NATURE and name:
            try:
                out[_fold(name)] = validate_uai(text_of(rec.get(uai_col)) or "")
            except UaiError:
                continue
    return out


def _school(get: Any, cols: dict[str, str | None], circonscriptions: dict[str, str]) -> SchoolPublic:
    """One row as a school; a ValueError (or ValidationError) saying which column is wrong."""
    uai = validate_uai(text_of(get("uai")) or "")
    for f in ("name", "commune"):
        if text_of(get(f)) is None:
            raise ValueError(f"{cols[f]}: empty")
    circonscription = text_of(get("circonscription"))
    code = text_of(get("circonscription_code"))
    if code is None and circonscription is not None:
        code = circonscriptions.get(_fold(circonscription))
    return SchoolPublic(
        uai=uai, name=text_of(get("name")), commune=text_of(get("commune")),
        commune_code=text_of(get("commune_code")), departement=text_of(get("departement")),
        academie=text_of(get("academie")), school_type=text_of(get("school_type")),
        circonscription=circonscription, circonscription_code=code,
        latitude=_number(get("latitude"), "latitude"), longitude=_number(get("longitude"), "longitude"),
        email=text_of(get("email")),
        priority_education=_priority(get("priority_education"), cols["priority_education"] or ""),
        sector=_choice(get("sector"), cols["sector"] or "", _SECTORS),
        state=_choice(get("state"), "etat", _STATES),
        pupils=whole_number(get("pupils"), cols["pupils"] or "pupils"))


def problem_text(exc: Exception, cols: dict[str, str | None]) -> str:
    """A row's error as the user reads it: the directory's column, then the reason."""
    if not isinstance(exc, ValidationError):
        return str(exc)
    parts = []
    for e in exc.errors():
        f = str(e["loc"][0]) if e["loc"] else ""
        parts.append(f"{cols.get(f) or f or 'row'}: {e['msg']}")
    return "; ".join(parts)


def parse_directory(data: bytes, every_kind: bool = False) -> ParsedDirectory:
    """The schools of a directory export (CSV or JSON), each with its line; the bad rows; what was left
    out by kind and as closing (nothing is, with ``every_kind``)."""
    records, header = read_records(data)
    cols = {f: pick(header, names) for f, names in COLUMNS.items()}
    missing = [COLUMNS[f][0] for f in REQUIRED if cols[f] is None]
    if missing:
        raise DirectoryError("not an 'Annuaire de l'éducation' export: no column " + ", ".join(missing))
    circonscriptions = _circonscription_codes(records, cols)
    present = {f for f, c in cols.items() if c is not None}
    if circonscriptions:
        present.add("circonscription_code")
    out = ParsedDirectory(rows=len(records), fields=frozenset(present))
    for line, rec in records:
        if "__error__" in rec:
            out.problems.append(RowProblem(line, rec["__error__"]))
            continue

        def get(f: str, rec: dict[str, Any] = rec) -> Any:
            col = cols[f]
            return None if col is None else rec.get(col)

        kind = text_of(get("school_type"))
        if not every_kind and (kind is None or kind.casefold() not in PRIMARY_TYPES):
            out.skipped_kinds[kind or NO_TYPE] += 1
            continue
        try:
            school = _school(get, cols, circonscriptions)
        except (UaiError, ValueError, ValidationError) as exc:
            out.problems.append(RowProblem(line, problem_text(exc, cols)))
            continue
        if not every_kind and school.state in ("closing", "closed"):
            out.closing += 1
            continue
        out.schools.append((line, school))
    return out
