"""The school records: add or update a school, find one by its UAI, show it as the API does.

Every value comes through :class:`config.wire.SchoolPublic` first, whose fields carry
config/school_fields.py's length and character rules: SQLite and PostgreSQL are only
ever given values both accept.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy.orm import Session

from collector.db.engine import as_utc
from collector.db.models import School
from collector.errors import StoreError
from config.school_fields import LIMITS
from config.uai import validate_uai
from config.wire import ClassesSource, SchoolPublic

log = logging.getLogger(__name__)

# What the directory says of a school (the import sets these); staff and classes come from elsewhere.
DIRECTORY_FIELDS = ("name", "commune", "commune_code", "departement", "academie", "school_type",
                    "circonscription", "circonscription_code", "latitude", "longitude", "email",
                    "priority_education", "sector", "state", "pupils")
FIELDS = (*DIRECTORY_FIELDS, "staff")
REQUIRED = ("name", "commune")


def file_label(path: Path) -> str:
    """A file's name as a record keeps it: printable characters only, within its column's length."""
    name = "".join(c if c.isprintable() else "?" for c in path.name)
    return name[: LIMITS["classes_file"]]


def field_errors(exc: ValidationError) -> str:
    """A validation error as ``field: reason`` parts, one per field."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors())


def classes_source(row: School) -> ClassesSource | None:
    """Where a school's class count came from, as the API shows it."""
    origin: Literal["import", "admin"] = "import" if row.classes_origin == "import" else "admin"
    if row.classes is None or row.classes_origin != origin or row.classes_at is None:
        return None
    return ClassesSource.model_construct(origin=origin, file=row.classes_file,
                                         year=row.classes_year, set_at=as_utc(row.classes_at))


def school_public(row: School) -> SchoolPublic:
    """A school row as the API shows it.

    A value stored under older, looser rules that today's rules refuse is left out
    (and logged) rather than failing the page; name and commune are shown as stored.
    """
    data: dict[str, Any] = {f: getattr(row, f) for f in FIELDS}
    data.update(uai=row.uai, classes=row.classes, classes_source=None)
    try:
        school = SchoolPublic.model_validate(data)
    except ValidationError as exc:
        bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]} - {"uai", *REQUIRED}
        log.warning("school %s: stored %s refused by today's rules, not shown", row.uai,
                    ", ".join(sorted(bad)))
        data.update(dict.fromkeys(bad))
        try:
            school = SchoolPublic.model_validate(data)
        except ValidationError:
            school = SchoolPublic.model_construct(**data)
    source = classes_source(row)
    return school if source is None else school.model_copy(update={"classes_source": source})


def new_row(school: SchoolPublic, now: datetime) -> School:
    """A new row for ``school`` (its directory fields and staff; classes are set apart)."""
    return School(uai=school.uai, created_at=now, **{f: getattr(school, f) for f in FIELDS})


def set_classes(row: School, classes: int, now: datetime, file: str | None = None,
                year: int | None = None) -> None:
    """Record a class count: from an imported ``file`` (and its rentrée ``year``), else from an admin."""
    row.classes = classes
    row.classes_origin = "import" if file is not None else "admin"
    row.classes_file = file
    row.classes_year = year
    row.classes_at = now


def clear_classes(row: School) -> None:
    """Forget a school's class count (the next import with a count file sets it again)."""
    row.classes = row.classes_origin = row.classes_file = row.classes_year = row.classes_at = None


def upsert_school(session: Session, school: SchoolPublic, now: datetime) -> bool:
    """Add a school or update it in place (fields left unset are kept); True when it was new.

    A class count given here is an admin's: an import does not replace it.
    """
    row = session.get(School, school.uai)
    created = row is None
    if row is None:
        row = new_row(school, now)
        session.add(row)
    for field in FIELDS:
        value = getattr(school, field)
        if value is not None or field in REQUIRED:
            setattr(row, field, value)
    if school.classes is not None:
        set_classes(row, school.classes, now)
    return created


def update_school(session: Session, uai: str, changes: dict[str, Any], now: datetime) -> School:
    """Change some fields of a known school (``classes`` as an admin's count); a 422 naming the field
    when a value breaks the rules, a 404 for an unknown school."""
    row = get_school(session, uai)
    unknown = set(changes) - {*FIELDS, "classes"}
    if unknown:
        raise StoreError(422, f"not a school field: {', '.join(sorted(unknown))}")
    current = school_public(row).model_dump(exclude={"classes_source"})
    try:
        school = SchoolPublic.model_validate({**current, **changes})
    except ValidationError as exc:
        raise StoreError(422, field_errors(exc)) from None
    for field in changes:
        if field != "classes":
            setattr(row, field, getattr(school, field))
        elif school.classes is None:
            clear_classes(row)
        else:
            set_classes(row, school.classes, now)
    return row


def get_school(session: Session, uai: str) -> School:
    """A school by UAI, or a 404 that says which."""
    try:
        uai = validate_uai(uai)
    except ValueError as exc:
        raise StoreError(422, str(exc)) from None
    row = session.get(School, uai)
    if row is None:
        raise StoreError(404, f"no school {uai} in this collector")
    return row
