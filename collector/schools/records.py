"""The school records: add or update a school, find one by its UAI, show it as the API does."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from collector.db.models import School
from collector.errors import StoreError
from config.uai import validate_uai
from config.wire import SchoolPublic


def school_public(row: School) -> SchoolPublic:
    """A school row as the API shows it."""
    return SchoolPublic(uai=row.uai, name=row.name, commune=row.commune, departement=row.departement,
                        academie=row.academie, school_type=row.school_type, pupils=row.pupils,
                        staff=row.staff)


def upsert_school(session: Session, school: SchoolPublic, now: datetime) -> bool:
    """Add a school or update it in place; True when it was new."""
    row = session.get(School, school.uai)
    created = row is None
    if row is None:
        row = School(uai=school.uai, created_at=now, name=school.name, commune=school.commune)
        session.add(row)
    for field in ("name", "commune", "departement", "academie", "school_type", "pupils", "staff"):
        value = getattr(school, field)
        if value is not None or field in ("name", "commune"):
            setattr(row, field, value)
    return created


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
