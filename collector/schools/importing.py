"""The directory import: schools added or updated from a directory export and a count file.

Re-importing updates schools in place (by UAI) and leaves identical ones
untouched. A school spread over several lines keeps its first. Class counts
come from the count file with its name and school year, unless an admin set
the school's count (``school set --classes``): an admin's count is kept. Every
value is checked (config/school_fields.py) before the database sees it, so a
bad row is reported by its line on SQLite and on PostgreSQL alike, and the
good rows are imported.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.db.models import School
from collector.schools.counts import Counts, read_counts
from collector.schools.directory import ParsedDirectory, RowProblem, parse_directory
from collector.schools.records import DIRECTORY_FIELDS, file_label, new_row, set_classes
from config.wire import SchoolPublic

log = logging.getLogger(__name__)


@dataclass
class ImportResult:
    """What an import did."""

    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped_kinds: dict[str, int] = field(default_factory=dict)  # kind -> rows left out
    closing: int = 0
    errors: list[RowProblem] = field(default_factory=list)
    duplicates: list[RowProblem] = field(default_factory=list)
    counts_file: str | None = None
    counts_years: list[int] = field(default_factory=list)
    classes_set: int = 0  # schools whose class count the file gave (new or changed)
    classes_kept: int = 0  # schools whose admin-set count was kept over the file's

    def summary(self) -> str:
        """The counts in one line, as ``school import`` prints them."""
        kinds = sorted(self.skipped_kinds.items(), key=lambda kv: (-kv[1], kv[0]))
        skipped = sum(self.skipped_kinds.values())
        text = (f"{self.rows} rows: {self.added} added, {self.updated} updated, {self.unchanged} unchanged; "
                f"skipped {skipped} not primary schools"
                + (" (" + ", ".join(f"{k} {n}" for k, n in kinds) + ")" if kinds else "")
                + f", {self.closing} closing; {len(self.errors)} bad rows")
        if self.counts_file is not None:
            years = ", ".join(str(y) for y in self.counts_years) or "no year given"
            text += (f"\nclasses from {self.counts_file} (rentrée {years}): {self.classes_set} set, "
                     f"{self.classes_kept} kept as an admin set them")
        return text


def _existing(session: Session, uais: list[str]) -> dict[str, School]:
    out: dict[str, School] = {}
    for i in range(0, len(uais), 500):  # one query per 500 schools, not one per school
        chunk = uais[i : i + 500]
        out.update((r.uai, r) for r in session.scalars(select(School).where(School.uai.in_(chunk))))
    return out


def _apply_classes(row: School, counts: Counts | None, file: str | None, now: datetime,
                   result: ImportResult) -> bool:
    """Take the file's class count unless an admin set one; True when the row changed."""
    if counts is None or counts.classes is None or file is None:
        return False
    if row.classes_origin == "admin":
        result.classes_kept += 1
        return False
    if (row.classes, row.classes_origin, row.classes_file, row.classes_year) == (
            counts.classes, "import", file, counts.year):
        return False
    set_classes(row, counts.classes, now, file, counts.year)
    result.classes_set += 1
    return True


def apply(session: Session, schools: list[tuple[int, SchoolPublic]], now: datetime, result: ImportResult,
          present: frozenset[str] = frozenset(DIRECTORY_FIELDS), counts: dict[str, Counts] | None = None,
          counts_file: str | None = None) -> None:
    """Add or update schools by UAI (with their counts); an identical school is left as it is.

    ``present`` names the fields the file has a column for: an empty value erases only those.
    """
    counts = counts or {}
    seen: dict[str, int] = {}
    existing = _existing(session, [s.uai for _, s in schools])
    for line, school in schools:
        if school.uai in seen:
            result.duplicates.append(RowProblem(
                line, f"{school.uai} already on line {seen[school.uai]} (one school on several "
                      "lines): the first line is kept"))
            continue
        seen[school.uai] = line
        row = existing.get(school.uai)
        if row is None:
            row = new_row(school, now)
            session.add(row)
            existing[school.uai] = row
            _apply_classes(row, counts.get(school.uai), counts_file, now, result)
            result.added += 1
            continue
        changed = False
        for f in DIRECTORY_FIELDS:
            value = getattr(school, f)
            # A column the file lacks, or an empty pupil count, does not erase what is known.
            if value is None and (f == "pupils" or f not in present):
                continue
            if getattr(row, f) != value:
                setattr(row, f, value)
                changed = True
        changed = _apply_classes(row, counts.get(school.uai), counts_file, now, result) or changed
        result.updated += changed
        result.unchanged += not changed


def _with_counts(parsed: ParsedDirectory, counts: dict[str, Counts]) -> list[tuple[int, SchoolPublic]]:
    """The schools, each with the count file's pupils when it has them."""
    out = []
    for line, s in parsed.schools:
        c = counts.get(s.uai)
        out.append((line, s if c is None or c.pupils is None else s.model_copy(update={"pupils": c.pupils})))
    return out


def import_directory(session: Session, path: Path, now: datetime, counts_path: Path | None = None,
                     every_kind: bool = False) -> ImportResult:
    """Import a directory export (and optionally a pupil and class count file) into the schools table.

    The caller commits. Raises :class:`~collector.schools.directory.DirectoryError`
    when a file is not such an export at all.
    """
    parsed = parse_directory(path.read_bytes(), every_kind)
    result = ImportResult(rows=parsed.rows, errors=list(parsed.problems),
                          skipped_kinds=dict(parsed.skipped_kinds), closing=parsed.closing)
    counts: dict[str, Counts] = {}
    if counts_path is not None:
        counts, problems = read_counts(counts_path.read_bytes())
        result.errors.extend(RowProblem(p.line, f"{counts_path.name}: {p.message}") for p in problems)
        result.counts_file = file_label(counts_path)
        result.counts_years = sorted({c.year for c in counts.values() if c.year is not None})
    apply(session, _with_counts(parsed, counts), now, result, parsed.fields, counts, result.counts_file)
    log.info("directory import of %s: %d added, %d updated, %d unchanged, %d skipped by kind, %d closing, "
             "%d bad rows", path, result.added, result.updated, result.unchanged,
             sum(result.skipped_kinds.values()), result.closing, len(result.errors))
    return result
