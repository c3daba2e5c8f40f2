"""The school list: scope, filters, counts per level and one page of schools."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.access import normalise_departement, visible
from collector.models import ApiToken, School
from config.profile import Profile

from .status import LEVELS, SILENT, StandingCache, standing_of, standings

PAGE_SIZE = 50


@dataclass(frozen=True)
class Filters:
    """What the IT lead asked the list for."""

    q: str = ""
    commune: str = ""
    departement: str = ""
    level: str = ""
    rule: str = ""
    page: int = 1

    def query(self, **change: object) -> dict[str, str]:
        """These filters as query parameters (with changes), empty ones left out."""
        values = {"q": self.q, "commune": self.commune, "departement": self.departement,
                  "level": self.level, "rule": self.rule, "page": str(self.page)}
        values.update({k: str(v) for k, v in change.items()})
        return {k: v for k, v in values.items() if v and not (k == "page" and v == "1")}


@dataclass(frozen=True)
class SchoolLine:
    """One school in the list."""

    uai: str
    name: str
    commune: str
    departement: str | None
    academie: str | None
    school_type: str | None
    pupils: int | None
    level: str
    silent: bool
    failing: tuple[str, ...]


@dataclass
class Overview:
    """A page of the list, and counts over every school the filters (bar level and rule) keep."""

    counts: dict[str, int]
    total: int
    matching: int
    lines: list[SchoolLine]
    page: int
    pages: int
    departements: list[str] = field(default_factory=list)


def select_schools(session: Session, profile: Profile, now: datetime, cache: StandingCache,
                   user: ApiToken, f: Filters) -> tuple[list[SchoolLine], dict[str, int], list[str]]:
    """Every school in the user's scope matching ``f``; the per-level counts; the départements seen."""
    stmt = select(School.uai, School.name, School.commune, School.departement, School.academie,
                  School.school_type, School.pupils)
    if f.departement:
        stmt = stmt.where(School.departement == normalise_departement(f.departement))
    rows = list(visible(user.role, user.scope, session.execute(stmt.order_by(School.commune, School.name))))
    departements = sorted({r.departement for r in rows if r.departement})
    if f.commune:
        want = " ".join(f.commune.casefold().split())
        rows = [r for r in rows if r.commune.casefold() == want]
    if f.q:
        q = f.q.strip().casefold()
        rows = [r for r in rows if q in r.name.casefold() or r.uai.casefold().startswith(q)]
    table = standings(session, profile, now, cache)
    counts = dict.fromkeys((*LEVELS, SILENT), 0)
    lines = []
    for r in rows:
        st = standing_of(r.uai, table)
        counts[st.level] += 1
        counts[SILENT] += st.silent
        if f.level == SILENT and not st.silent:
            continue
        if f.level and f.level != SILENT and st.level != f.level:
            continue
        if f.rule and f.rule not in st.failing:
            continue
        lines.append(SchoolLine(r.uai, r.name, r.commune, r.departement, r.academie, r.school_type,
                                r.pupils, st.level, st.silent, st.failing))
    return lines, counts, departements


def overview(session: Session, profile: Profile, now: datetime, cache: StandingCache, user: ApiToken,
             f: Filters, page_size: int = PAGE_SIZE) -> Overview:
    """One page of the filtered list, with the counts."""
    lines, counts, departements = select_schools(session, profile, now, cache, user, f)
    pages = max(1, math.ceil(len(lines) / page_size))
    page = min(max(1, f.page), pages)
    return Overview(counts=counts, total=sum(counts[lv] for lv in LEVELS), matching=len(lines),
                    lines=lines[(page - 1) * page_size : page * page_size], page=page, pages=pages,
                    departements=departements)
