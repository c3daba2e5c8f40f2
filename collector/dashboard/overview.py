"""The school list: scope, filters, counts per level and one page of schools."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from collector.auth.access import Action, allowed, normalise_departement
from collector.db.models import ApiToken
from config.profile import Profile

from .contract import ContractFigures, contract_figures
from .status import LEVELS, NO_AGENT, SILENT, Standing, StandingCache, directory, standings

PAGE_SIZE = 50
UNDER = "under"  # the contract filter's one value
SORTS = ("recent", "longest")  # by since: the newest change of level first, or the oldest


@dataclass(frozen=True)
class Filters:
    """What the IT lead asked the list for."""

    q: str = ""
    commune: str = ""
    departement: str = ""
    level: str = ""
    rule: str = ""
    contract: str = ""  # "under": the schools measured below 80 % of their contract
    since_days: int = 0  # only the schools whose level began in the last so many days (0: any)
    sort: str = ""  # one of SORTS, or the directory's order
    page: int = 1

    def query(self, **change: object) -> dict[str, str]:
        """These filters as query parameters (with changes), empty ones left out."""
        values = {"q": self.q, "commune": self.commune, "departement": self.departement,
                  "level": self.level, "rule": self.rule, "contract": self.contract,
                  "since_days": str(self.since_days or ""), "sort": self.sort, "page": str(self.page)}
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
    contract: ContractFigures | None = None
    commune_code: str | None = None
    circonscription: str | None = None
    classes: int | None = None
    since: datetime | None = None  # when the level began


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
    everyone: list[tuple[Any, str]] = field(default_factory=list)  # (directory row, level), every page


def _line(r: Any, st: Standing, contract: ContractFigures | None = None) -> SchoolLine:
    return SchoolLine(r.uai, r.name, r.commune, r.departement, r.academie, r.school_type, r.pupils,
                      st.level, st.silent, st.failing, contract, r.commune_code, r.circonscription, r.classes,
                      st.since)


def _by_since(matching: list[Any], table: dict[str, Standing], f: Filters, now: datetime) -> list[Any]:
    """The ``since`` filter and sort: schools without a verdict have no since, and are left out by the
    filter and put last by either sort."""
    if f.since_days:
        after = now - timedelta(days=f.since_days)
        matching = [r for r in matching if (st := table.get(r.uai)) and st.since and st.since >= after]
    if f.sort in SORTS:
        known = [r for r in matching if (st := table.get(r.uai)) and st.since]
        rest = [r for r in matching if not ((st := table.get(r.uai)) and st.since)]
        known.sort(key=lambda r: table[r.uai].since, reverse=f.sort == "recent")  # type: ignore[arg-type,return-value]
        matching = known + rest
    return matching


def _keep(st: Standing, f: Filters) -> bool:
    if f.level == SILENT and not st.silent:
        return False
    if f.level and f.level != SILENT and st.level != f.level:
        return False
    return not f.rule or f.rule in st.failing


def _matching(session: Session, profile: Profile, now: datetime, cache: StandingCache, user: ApiToken,
              f: Filters) -> tuple[list[Any], dict[str, Standing], dict[str, int], list[str],
                                   dict[str, ContractFigures]]:
    """The matching directory rows (sorted), the verdicts, the counts, the départements in scope, and the
    contract figures when the contract filter asked for them."""
    counts = dict.fromkeys((*LEVELS, SILENT), 0)
    if not allowed(user.role, user.scope, Action.read):
        return [], {}, counts, [], {}
    rows, departements = directory(session, cache, user.scope)
    if f.departement:
        dep = normalise_departement(f.departement)
        rows = [r for r in rows if normalise_departement(r.departement or r.uai[:3]) == dep]
    if f.commune:
        want = " ".join(f.commune.casefold().split())
        rows = [r for r in rows if r.commune.casefold() == want]
    if f.q:
        q = f.q.strip().casefold()
        rows = [r for r in rows if q in r.name.casefold() or r.uai.casefold().startswith(q)]
    table = standings(session, profile, now, cache)
    judged = [(r, table[r.uai]) for r in rows if r.uai in table]
    counts[NO_AGENT.level] = len(rows) - len(judged)
    for _, st in judged:
        counts[st.level] += 1
        counts[SILENT] += st.silent
    if not f.level and not f.rule:
        matching = rows
    elif f.level == NO_AGENT.level and not f.rule:  # most schools: those without agents too
        matching = [r for r in rows if table.get(r.uai, NO_AGENT).level == f.level]
    else:
        matching = [r for r, st in judged if _keep(st, f)]
    figures: dict[str, ContractFigures] = {}
    if f.contract == UNDER:
        figures = contract_figures(session, profile, [r.uai for r in matching])
        matching = [r for r in matching if r.uai in figures and figures[r.uai].under]
    matching = _by_since(matching, table, f, now)
    return matching, table, counts, departements, figures


def select_schools(session: Session, profile: Profile, now: datetime, cache: StandingCache,
                   user: ApiToken, f: Filters) -> tuple[list[SchoolLine], dict[str, int], list[str]]:
    """Every school in the user's scope matching ``f``; the per-level counts; the départements seen."""
    matching, table, counts, departements, figures = _matching(session, profile, now, cache, user, f)
    figures = figures or contract_figures(session, profile, [r.uai for r in matching])
    return ([_line(r, table.get(r.uai, NO_AGENT), figures.get(r.uai)) for r in matching], counts,
            departements)


def overview(session: Session, profile: Profile, now: datetime, cache: StandingCache, user: ApiToken,
             f: Filters, page_size: int = PAGE_SIZE) -> Overview:
    """One page of the filtered list, with the counts."""
    matching, table, counts, departements, figures = _matching(session, profile, now, cache, user, f)
    pages = max(1, math.ceil(len(matching) / page_size))
    page = min(max(1, f.page), pages)
    shown = matching[(page - 1) * page_size : page * page_size]
    if not figures:
        figures = contract_figures(session, profile, [r.uai for r in shown])
    lines = [_line(r, table.get(r.uai, NO_AGENT), figures.get(r.uai)) for r in shown]
    return Overview(counts=counts, total=sum(counts[lv] for lv in LEVELS), matching=len(matching),
                    lines=lines, page=page, pages=pages, departements=departements,
                    everyone=[(r, table.get(r.uai, NO_AGENT).level) for r in matching])
