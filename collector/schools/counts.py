"""Reading the national pupil and class counts per école (open data): a pure parser.

The dataset ``fr-en-ecoles-effectifs-nb_classes`` (data.education.gouv.fr) is a
semicolon CSV with label headers, one line per école and school year, for example::

    Rentrée scolaire;Région académique;Académie;Département;Commune;Numéro de l'école;...
    2022;BRETAGNE;RENNES;ILLE-ET-VILAINE;ACIGNE;0350103X;...

where, further on, ``Nombre total de classes;Nombre total d'élèves`` are ``12;289``.
The key is ``Numéro de l'école`` (the UAI). When a file holds several school
years, each école's latest one is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import TypeAdapter, ValidationError

from collector.schools.directory import DirectoryError, RowProblem, pick, read_records, text_of, whole_number
from config.school_fields import ClassCount, Count
from config.uai import UaiError, validate_uai

# Our field -> the dataset's column names (label headers, then API names).
COUNT_COLUMNS = {
    "year": ("Rentrée scolaire", "rentree_scolaire"),
    "uai": ("Numéro de l'école", "numero_ecole"),
    "pupils": ("Nombre total d'élèves", "nombre_total_eleves"),
    "classes": ("Nombre total de classes", "nombre_total_classes"),
}
_PUPILS: TypeAdapter[int] = TypeAdapter(Count)
_CLASSES: TypeAdapter[int] = TypeAdapter(ClassCount)


@dataclass(frozen=True)
class Counts:
    """One école's counts for one school year (``year`` is the rentrée, None when the file has none)."""

    year: int | None
    pupils: int | None
    classes: int | None


def _year(value: object) -> int | None:
    s = text_of(value)
    if s is None:
        return None
    head = s[:4]  # "2022" or "2022-2023"
    if not head.isdigit() or not 1900 <= int(head) <= 2100:
        raise ValueError(f"Rentrée scolaire: {s!r} is not a year")
    return int(head)


def _checked(value: object, column: str | None, rule: TypeAdapter[int]) -> int | None:
    """A count cell, held to the same rule as the school's field (config/school_fields.py)."""
    n = whole_number(value, column or "")
    if n is None:
        return None
    try:
        return rule.validate_python(n)
    except ValidationError as exc:
        raise ValueError(f"{column}: {exc.errors()[0]['msg']}") from None


def read_counts(data: bytes) -> tuple[dict[str, Counts], list[RowProblem]]:
    """UAI -> its latest year's pupil and class counts; and the bad rows, by line."""
    records, header = read_records(data)
    cols = {f: pick(header, names) for f, names in COUNT_COLUMNS.items()}
    if cols["uai"] is None or (cols["pupils"] is None and cols["classes"] is None):
        raise DirectoryError("not a pupil and class count export: no column "
                             f"{COUNT_COLUMNS['uai'][0]!r}, or neither {COUNT_COLUMNS['pupils'][0]!r} "
                             f"nor {COUNT_COLUMNS['classes'][0]!r}")
    best: dict[str, Counts] = {}
    problems: list[RowProblem] = []
    for line, rec in records:
        if "__error__" in rec:
            problems.append(RowProblem(line, rec["__error__"]))
            continue

        def get(f: str, rec: dict[str, object] = rec) -> object:
            col = cols[f]
            return None if col is None else rec.get(col)

        try:
            uai = validate_uai(text_of(get("uai")) or "")
            counts = Counts(_year(get("year")), _checked(get("pupils"), cols["pupils"], _PUPILS),
                            _checked(get("classes"), cols["classes"], _CLASSES))
        except (UaiError, ValueError) as exc:
            problems.append(RowProblem(line, str(exc)))
            continue
        seen = best.get(uai)
        if seen is None or (counts.year or 0) >= (seen.year or 0):
            best[uai] = counts
    return best, problems
