"""The dashboard's pages: the overview and the school page (server-rendered HTML)."""

from __future__ import annotations

import functools
from datetime import timedelta
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from collector.api.deps import DbSession, Now, State
from collector.auth.access import Action, allowed, require, scope_problem
from collector.auth.code_qr import qr_svg_inline, speedtest_url
from collector.auth.credentials import create_enroll_code
from config.equipment import Item

from .auth import FormUser, User, readable_school
from .equipment_view import message, missing_of
from .geomap import school_map
from .i18n import translator
from .overview import SORTS, UNDER, Filters, overview
from .render import STATIC, language, number, render
from .rule_words import share_minimums, why_not_ready
from .school import school_view
from .status import LEVELS, SILENT, cache_of

SPEEDTEST_CODE_TTL = timedelta(hours=2)

router = APIRouter(include_in_schema=False)


def filters_from(q: str = "", commune: str = "", departement: str = "", level: str = "", rule: str = "",
                 page: int = 1, contract: str = "", since_days: str = "", sort: str = "") -> Filters:
    """The list's filters from the query string (unknown levels, contract filters, sorts and day
    counts are ignored)."""
    level = level if level in (*LEVELS, SILENT) else ""
    days = int(since_days) if since_days.strip().isdigit() else 0
    return Filters(q=q.strip()[:100], commune=commune.strip()[:100], departement=departement.strip()[:3],
                   level=level, rule=rule.strip()[:64], contract=contract if contract == UNDER else "",
                   since_days=min(days, 3660), sort=sort if sort in SORTS else "", page=max(1, page))


@router.get("/")
def root() -> Response:
    """The dashboard is the collector's home page."""
    return RedirectResponse("/dashboard", status_code=303)


@router.get("/dashboard", response_class=HTMLResponse)
def overview_page(request: Request, user: User, session: DbSession, state: State, at: Now,
                  q: str = "", commune: str = "", departement: str = "", level: str = "",
                  rule: str = "", page: int = 1, contract: str = "", since_days: str = "",
                  sort: str = "") -> Response:
    """Counts per level and the filterable list of schools in the user's scope (those measured under
    80 % of their internet contract with ``contract=under``; whose level began in the last
    ``since_days`` days; sorted by since with ``sort=recent`` or ``sort=longest``)."""
    f = filters_from(q, commune, departement, level, rule, page, contract, since_days, sort)
    ov = overview(session, state.profile, at, cache_of(request.app.state), user, f)
    return render(request, "overview.html", user=user, f=f, ov=ov, levels=LEVELS, silent=SILENT,
                  map=school_map(ov.everyone),
                  rules=state.profile.rules, under=UNDER, sorts=SORTS,
                  scope_problem=scope_problem(user.scope))


def school_page_response(request: Request, user: User, session: DbSession, state: State, at: Now, uai: str,
                         template: str, status_code: int = 200, **extra: object) -> Response:
    """A school's page (or its printable report) with ``extra`` in the template's context."""
    school = readable_school(session, user, uai)
    lang = language(request)
    t = translator(lang)
    view = school_view(session, school, state.profile, at, t, lang)
    missing = ([message(t, m) for m in missing_of(school.uai, view.equipment)]
               if view.equipment is not None else [])
    why = why_not_ready(view.evaluation.outcomes, share_minimums(state.profile),
                        view.evaluation.level.value, lang, lambda v, d=1: number(v, lang, d))
    return render(request, template, status_code=status_code, user=user, v=view, at=at, why=why,
                  rule_titles={r.id: r.title for r in state.profile.rules},
                  profile=state.profile, can_make_code=allowed(user.role, user.scope, Action.enroll, school),
                  items=[i.value for i in Item], declared=_declared(request),
                  missing=missing, **extra)


def _declared(request: Request) -> str | None:
    """The item a declaration just saved (the form's redirect says which), when it is one."""
    said = request.query_params.get("declared")
    return said if said in set(Item) else None


@router.get("/dashboard/schools/{uai}", response_class=HTMLResponse)
def school_page(request: Request, uai: str, user: User, session: DbSession, state: State,
                at: Now) -> Response:
    """A school: level, every rule with evidence and source, rooms, devices, agents, charts."""
    return school_page_response(request, user, session, state, at, uai, "school.html")


@router.get("/dashboard/schools/{uai}/report", response_class=HTMLResponse)
def school_report(request: Request, uai: str, user: User, session: DbSession, state: State,
                  at: Now) -> Response:
    """The printable report of a school, to attach to a funding file."""
    return school_page_response(request, user, session, state, at, uai, "report.html")


@router.post("/dashboard/schools/{uai}/speedtest-code", response_class=HTMLResponse)
def make_speedtest_code(request: Request, uai: str, user: FormUser, session: DbSession, state: State,
                        at: Now) -> Response:
    """A short-lived code for one browser speed test at this school (technicians and admins)."""
    school = readable_school(session, user, uai)
    require(user.role, user.scope, Action.enroll, school)
    code = create_enroll_code(session, school.uai, at, SPEEDTEST_CODE_TTL)
    session.commit()
    url = speedtest_url(state.settings.public_url or str(request.base_url), code)
    return school_page_response(request, user, session, state, at, uai, "school.html", status_code=201,
                                speedtest_code=code, speedtest_url=url,
                                speedtest_qr=Markup(qr_svg_inline(url)))


_STATIC_TYPES = {".css": "text/css", ".js": "text/javascript", ".txt": "text/plain"}


@functools.cache
def _static_files() -> dict[str, Path]:
    """The files served under /static: the flat directory's, by name (read once)."""
    return {p.name: p for p in STATIC.iterdir() if p.is_file() and p.suffix in _STATIC_TYPES}


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    """The dashboard's own CSS and JavaScript (a flat directory, no build step).

    Only a name the directory holds is served: nothing typed in the address is ever made a path.
    """
    path = _static_files().get(name)
    if path is None:
        raise HTTPException(404, "no such file")
    return FileResponse(path, media_type=_STATIC_TYPES[path.suffix],
                        headers={"Cache-Control": "max-age=3600"})
