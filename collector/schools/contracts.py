"""A school's internet contract: provider, technology, contracted download and upload.

Contracts come from a CSV a district keeps (its own table, exported from a
spreadsheet): semicolon (or comma) separated, UTF-8 with or without a
byte-order mark, one line per school, English or French headers, for example::

    uai;provider;technology;download_mbps;upload_mbps
    0350122T;Orange;fibre;100;50
    0350165P;Nordnet;satellite;25,5;3

or ``UAI;Fournisseur;Technologie;Débit descendant (Mbit/s);Débit montant (Mbit/s)``.
Technologies: ``fibre`` (fibre, FTTH, FTTB), ``copper`` (cuivre, ADSL, VDSL,
SDSL), ``mobile`` (4G, 5G, 4G/5G) and ``satellite``. A bad row is reported with
its line number and reason and the good rows are imported; importing again
replaces each school's contract in place.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.db.models import School, SchoolContract
from collector.schools.directory import DirectoryError, RowProblem, column_errors, pick, read_records, text_of
from collector.schools.records import file_label
from config.school_fields import LIMITS, Provider
from config.uai import validate_uai

log = logging.getLogger(__name__)


class Technology(enum.StrEnum):
    """How the school is linked to the internet."""

    fibre = "fibre"
    copper = "copper"  # xDSL on the telephone line
    mobile = "mobile"  # 4G/5G
    satellite = "satellite"


_TECHNOLOGIES = {
    **dict.fromkeys(("fibre", "fiber", "ftth", "fttb", "fttx", "fibreoptique"), Technology.fibre),
    **dict.fromkeys(("copper", "cuivre", "adsl", "adsl2+", "vdsl", "vdsl2", "sdsl", "xdsl", "dsl"),
                    Technology.copper),
    **dict.fromkeys(("mobile", "4g", "5g", "4g/5g", "4g+", "lte", "4g-5g"), Technology.mobile),
    **dict.fromkeys(("satellite", "sat"), Technology.satellite),
}


def _technology(value: Any) -> Any:
    if isinstance(value, str):
        key = "".join(value.casefold().split())
        if key in _TECHNOLOGIES:
            return _TECHNOLOGIES[key]
        raise ValueError(f"{value!r} is not a technology: fibre, copper (ADSL, VDSL), 4G/5G or satellite")
    return value


def _rate(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", ".")
    return value


Rate = Annotated[float, BeforeValidator(_rate), Field(gt=0, le=100_000)]  # Mbit/s


class Contract(BaseModel):
    """One school's contract, validated: each refusal names its field."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    uai: Annotated[str, AfterValidator(validate_uai)]
    provider: Provider
    technology: Annotated[Technology, BeforeValidator(_technology)]
    download_mbps: Rate
    upload_mbps: Rate


# Our field -> the CSV's accepted headers (English, then French).
CONTRACT_COLUMNS: dict[str, tuple[str, ...]] = {
    "uai": ("uai", "UAI", "Identifiant_de_l_etablissement", "Numéro de l'école"),
    "provider": ("provider", "Fournisseur", "fournisseur", "Opérateur", "operateur"),
    "technology": ("technology", "Technologie", "technologie"),
    "download_mbps": ("download_mbps", "Débit descendant (Mbit/s)", "debit_descendant_mbps"),
    "upload_mbps": ("upload_mbps", "Débit montant (Mbit/s)", "debit_montant_mbps"),
}


def parse_contracts(data: bytes) -> tuple[list[tuple[int, Contract]], list[RowProblem]]:
    """The contracts of a CSV, each with its line; and the bad rows (one school on two lines is one)."""
    records, header = read_records(data, delimiters=";,")
    cols = {f: pick(header, names) for f, names in CONTRACT_COLUMNS.items()}
    missing = [names[0] for f, names in CONTRACT_COLUMNS.items() if cols[f] is None]
    if missing:
        raise DirectoryError("not a contract file: no column " + ", ".join(missing)
                             + " (see docs/dashboard.md, 'Internet contracts')")
    out: list[tuple[int, Contract]] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    for line, rec in records:
        if "__error__" in rec:
            problems.append(RowProblem(line, rec["__error__"]))
            continue
        try:
            contract = Contract.model_validate({f: text_of(rec.get(c or "")) for f, c in cols.items()})
        except ValidationError as exc:
            problems.append(RowProblem(line, column_errors(exc, cols)))
            continue
        if contract.uai in seen:
            problems.append(RowProblem(line, f"{contract.uai} already on line {seen[contract.uai]}: one "
                                             "contract per school, the first line is kept"))
            continue
        seen[contract.uai] = line
        out.append((line, contract))
    return out, problems


@dataclass
class ContractImportResult:
    """What a contract import did."""

    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowProblem] = field(default_factory=list)


def set_contract(session: Session, contract: Contract, source: str, now: datetime) -> str:
    """Record a school's contract; ``added``, ``updated`` or ``unchanged``. The school must be known."""
    row = session.get(SchoolContract, contract.uai)
    values = {"provider": contract.provider, "technology": contract.technology.value,
              "download_mbps": contract.download_mbps, "upload_mbps": contract.upload_mbps}
    if row is None:
        session.add(SchoolContract(school_uai=contract.uai, source=source, updated_at=now, **values))
        return "added"
    if all(getattr(row, k) == v for k, v in values.items()):
        return "unchanged"
    for k, v in values.items():
        setattr(row, k, v)
    row.source, row.updated_at = source, now
    return "updated"


def import_contracts(session: Session, path: Path, now: datetime) -> ContractImportResult:
    """Import a contract CSV (the caller commits); a contract for a school not in the collector is a
    bad row."""
    contracts, problems = parse_contracts(path.read_bytes())
    result = ContractImportResult(rows=len(contracts) + len(problems), errors=problems)
    uais = [c.uai for _, c in contracts]
    known = {u for i in range(0, len(uais), 500)
             for u in session.scalars(select(School.uai).where(School.uai.in_(uais[i : i + 500])))}
    name = file_label(path)
    for line, contract in contracts:
        if contract.uai not in known:
            result.errors.append(RowProblem(line, f"no school {contract.uai} in this collector "
                                                  "(import the directory or add it first)"))
            continue
        what = set_contract(session, contract, f"{name} line {line}"[-LIMITS["contract_source"]:], now)
        setattr(result, what, getattr(result, what) + 1)
    result.errors.sort(key=lambda p: p.line)
    log.info("contract import of %s: %d added, %d updated, %d unchanged, %d bad rows", path,
             result.added, result.updated, result.unchanged, len(result.errors))
    return result


def contracts_of(session: Session, uais: list[str] | None = None) -> dict[str, SchoolContract]:
    """The contracts of ``uais`` (every contract when None), by school."""
    query = select(SchoolContract)
    if uais is None:
        return {c.school_uai: c for c in session.scalars(query)}
    out: dict[str, SchoolContract] = {}
    for i in range(0, len(uais), 500):
        out.update((c.school_uai, c) for c in session.scalars(
            query.where(SchoolContract.school_uai.in_(uais[i : i + 500]))))
    return out
