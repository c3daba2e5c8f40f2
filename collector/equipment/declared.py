"""Declared equipment: what an admin or technician records for a school's room, or for the school as a
whole, because no agent can see it (a projector on a cart, tablets without an agent, an MDM, a charging
cabinet).

From the command line (``socle-collector equipment set | remove | list | import``), the dashboard's form
on a school's page, or a CSV: semicolon (or comma) separated, UTF-8, one line per room and item, English
or French headers, for example::

    uai;room;item;count;note
    0350306T;CE1;vidéoprojecteur;1;au plafond, piloté par le portable de la classe
    0350306T;CE1;poste enseignant;1;
    0350306T;;tablette;8;classe mobile
    0350306T;;armoire de recharge;1;

or ``UAI;Salle;Équipement;Nombre;Remarque``. An empty room is the school as a whole. ``count`` is how
many the room (or school) has in all, 0 to say it has none. A bad row is reported with its line and
reason and the good rows are imported; importing again replaces each room's item in place.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.db.models import AgentRow, DeclaredItem, School
from collector.errors import StoreError
from collector.schools.directory import DirectoryError, RowProblem, column_errors, pick, read_records, text_of
from collector.schools.records import file_label
from config.equipment import Item, item_of
from config.school_fields import plain_text
from config.uai import validate_uai

log = logging.getLogger(__name__)


def _item(value: Any) -> Any:
    return item_of(value) if isinstance(value, str) else value


def _room(value: Any) -> Any:
    return "" if value is None else value.strip() if isinstance(value, str) else value


class ItemDeclaration(BaseModel):
    """One declared item, validated: each refusal names its field."""

    model_config = ConfigDict(extra="forbid")

    uai: Annotated[str, AfterValidator(validate_uai)]
    room: Annotated[str, BeforeValidator(_room), Field(max_length=200), AfterValidator(plain_text)] = ""
    item: Annotated[Item, BeforeValidator(_item)]
    count: int = Field(ge=0, le=10_000)
    note: Annotated[str, Field(max_length=200), AfterValidator(plain_text)] | None = None


COLUMNS: dict[str, tuple[str, ...]] = {
    "uai": ("uai", "UAI", "Numéro de l'école"),
    "room": ("room", "Salle", "salle", "Classe", "classe"),
    "item": ("item", "Équipement", "Equipement", "équipement", "equipement"),
    "count": ("count", "Nombre", "nombre", "Quantité", "quantite"),
    "note": ("note", "Remarque", "remarque", "Commentaire"),
}
REQUIRED = ("uai", "item", "count")


@dataclass
class ImportResult:
    """What an equipment import did."""

    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowProblem] = field(default_factory=list)


def _known_room(session: Session, uai: str, room: str) -> str:
    """A room as the school already spells it (an agent's or an earlier declaration's), else as given."""
    if not room:
        return room
    names = set(session.scalars(select(AgentRow.room).where(AgentRow.school_uai == uai)))
    names |= set(session.scalars(select(DeclaredItem.room).where(DeclaredItem.school_uai == uai)))
    return next((n for n in sorted(names) if n.casefold() == room.casefold()), room)


def set_item(session: Session, d: ItemDeclaration, by: str, source: str, now: datetime) -> tuple[str, str]:
    """Record a declaration (the school must be known): ``added``, ``updated`` or ``unchanged``, and the
    room as stored (spelt as the school's agents or earlier declarations spell it)."""
    if session.get(School, d.uai) is None:
        raise StoreError(404, f"no school {d.uai} in this collector (import the directory or add it first)")
    room = _known_room(session, d.uai, d.room)
    row = session.scalar(select(DeclaredItem).where(
        DeclaredItem.school_uai == d.uai, DeclaredItem.room == room, DeclaredItem.item == d.item.value))
    if row is None:
        session.add(DeclaredItem(school_uai=d.uai, room=room, item=d.item.value, count=d.count, note=d.note,
                                 declared_by=by[:200], declared_at=now, source=source[-200:]))
        session.flush()
        return "added", room
    if (row.count, row.note) == (d.count, d.note):
        return "unchanged", room
    row.count, row.note = d.count, d.note
    row.declared_by, row.declared_at, row.source = by[:200], now, source[-200:]
    return "updated", room


def remove_item(session: Session, uai: str, room: str, item: Item) -> bool:
    """Forget a declaration; whether there was one."""
    room = _known_room(session, uai, room.strip())
    row = session.scalar(select(DeclaredItem).where(DeclaredItem.school_uai == uai, DeclaredItem.room == room,
                                                    DeclaredItem.item == item.value))
    if row is None:
        return False
    session.delete(row)
    return True


def declared_items(session: Session, uai: str | None = None) -> list[DeclaredItem]:
    """The declarations of a school (every school's when None), by school, room and item."""
    query = select(DeclaredItem).order_by(DeclaredItem.school_uai, DeclaredItem.room, DeclaredItem.item)
    if uai is not None:
        query = query.where(DeclaredItem.school_uai == uai)
    return list(session.scalars(query))


def parse_items(data: bytes) -> tuple[list[tuple[int, ItemDeclaration]], list[RowProblem]]:
    """The declarations of a CSV, each with its line; and the bad rows (one room's item twice is one)."""
    records, header = read_records(data, delimiters=";,")
    cols = {f: pick(header, names) for f, names in COLUMNS.items()}
    missing = [COLUMNS[f][0] for f in REQUIRED if cols[f] is None]
    if missing:
        raise DirectoryError("not an equipment file: no column " + ", ".join(missing)
                             + " (uai;room;item;count;note — see docs/dashboard.md, 'Declared equipment')")
    out: list[tuple[int, ItemDeclaration]] = []
    problems: list[RowProblem] = []
    seen: dict[tuple[str, str, Item], int] = {}
    for line, rec in records:
        if "__error__" in rec:
            problems.append(RowProblem(line, rec["__error__"]))
            continue
        try:
            d = ItemDeclaration.model_validate({f: text_of(rec.get(c)) if c else None
                                                for f, c in cols.items()})
        except ValidationError as exc:
            problems.append(RowProblem(line, column_errors(exc, cols)))
            continue
        key = (d.uai, d.room.casefold(), d.item)
        if key in seen:
            problems.append(RowProblem(line, f"{d.item.value} of {d.uai} {d.room or '(school)'} already on "
                                             f"line {seen[key]}: the first line is kept"))
            continue
        seen[key] = line
        out.append((line, d))
    return out, problems


def import_items(session: Session, path: Path, by: str, now: datetime) -> ImportResult:
    """Import an equipment CSV (the caller commits); a row for a school not in the collector is a bad row."""
    rows, problems = parse_items(path.read_bytes())
    result = ImportResult(rows=len(rows) + len(problems), errors=problems)
    uais = sorted({d.uai for _, d in rows})
    known = {u for i in range(0, len(uais), 500)
             for u in session.scalars(select(School.uai).where(School.uai.in_(uais[i : i + 500])))}
    name = file_label(path)
    for line, d in rows:
        if d.uai not in known:
            result.errors.append(RowProblem(line, f"no school {d.uai} in this collector "
                                                  "(import the directory or add it first)"))
            continue
        what, _ = set_item(session, d, by, f"{name} line {line}", now)
        setattr(result, what, getattr(result, what) + 1)
    result.errors.sort(key=lambda p: p.line)
    log.info("equipment import of %s: %d added, %d updated, %d unchanged, %d bad rows", path,
             result.added, result.updated, result.unchanged, len(result.errors))
    return result
