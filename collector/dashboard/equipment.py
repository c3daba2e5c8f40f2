"""The equipment pages: the declaration form of a school's page, what is missing per school and room, its
counts per commune and département, and their exports (CSV, JSON) — the list a commune needs for a
funding application. The verdicts come from collector/equipment (one judge); this module only shows
them. The CSVs follow the other exports' conventions (semicolon, UTF-8 with a byte-order mark, CRLF)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import asdict
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from pydantic import ValidationError

from collector.api.deps import DbSession, Now, State
from collector.auth.access import Action, allowed, departement_of, require
from collector.db.models import ApiToken
from collector.equipment.declared import ItemDeclaration, set_item
from collector.schools.records import field_errors

from .auth import FormUser, User, readable_school
from .equipment_kept import Judged, kept_of
from .equipment_view import Area, counts, message
from .exports import cell
from .i18n import translator
from .render import fragment, language, render
from .status import cache_of, directory
from .views import school_page_response

router = APIRouter(include_in_schema=False)
T = TypeVar("T")


class Scope:
    """The schools a request covers — those the user may read, in the directory's order (commune, then
    name), narrowed by ``?departement=`` and ``?commune=`` — and the kept judgement of every school."""

    def __init__(self, request: Request, user: ApiToken, session: DbSession, state: State, at: Now) -> None:
        p = request.query_params
        self.dep = p.get("departement", "").strip()
        self.commune = p.get("commune", "").strip().casefold()
        self.lang = language(request)
        self.user_scope = user.scope
        self.listed: list[Any] = []
        if allowed(user.role, user.scope, Action.read):
            self.listed, _ = directory(session, cache_of(request.app.state), user.scope)
        self.kept = kept_of(request.app.state)
        self.judgement = self.kept.judgement(session, state.profile, at)

    def made(self, output: str, make: Callable[[list[Any], dict[str, Judged]], T]) -> T:
        """``output`` made of the schools and their judgement (kept with the judgement)."""
        def run() -> T:
            dep, commune = self.dep, self.commune
            rows = [s for s in self.listed if (not dep or departement_of(s) == dep.zfill(3))
                    and (not commune or commune in (s.commune.casefold(), s.commune_code or ""))]
            return make(rows, self.judgement.schools)
        key = (output, self.user_scope, self.dep, self.commune, self.lang)
        return self.kept.output(self.judgement, self.listed, key, run)


def _counts(rows: list[Any], judged: dict[str, Judged]) -> tuple[list[Area], list[Area]]:
    return counts(rows, {uai: j.tally for uai, j in judged.items()})


def _records(rows: list[Any], judged: dict[str, Judged], lang: str) -> list[dict[str, Any]]:
    t = translator(lang)
    out = []
    for s in rows:
        j = judged.get(s.uai)
        if j is None:
            continue
        for m in j.missing:
            out.append({"uai": s.uai, "name": s.name, "commune": s.commune, "commune_code": s.commune_code,
                        "departement": departement_of(s), "classes": j.tally.classes,
                        "room": m.room, "need": m.need, "rule_id": m.rule_id, "source": m.source,
                        "found": m.found, "needed": m.needed, "message": message(t, m)})
    return out


MISSING_COLUMNS = ("uai", "name", "commune", "commune_code", "departement", "classes", "room", "need",
                   "rule_id", "source", "found", "needed", "message")


def _csv(rows: Iterable[Iterable[Any]]) -> bytes:
    out = io.StringIO(newline="")
    w = csv.writer(out, delimiter=";", lineterminator="\r\n")
    for row in rows:
        w.writerow([cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _attachment(body: bytes, media: str, name: str) -> Response:
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/dashboard/equipment")
def equipment_page(request: Request, user: User, session: DbSession, state: State, at: Now) -> Response:
    """Counts per département and commune of classes lacking each item, with links to the exports."""
    def make(rows: list[Any], judged: dict[str, Judged]) -> Markup:
        deps, communes = _counts(rows, judged)
        return fragment(request, "equipment_tables.html", deps=deps, communes=communes,
                        rules=state.profile.equipment)
    tables = Scope(request, user, session, state, at).made("tables.html", make)
    return render(request, "equipment.html", user=user, tables=tables, query=request.url.query)


@router.get("/dashboard/equipment.csv")
def equipment_csv(request: Request, user: User, session: DbSession, state: State, at: Now) -> Response:
    """What is missing, one line per school, room and rule."""
    scope = Scope(request, user, session, state, at)

    def make(rows: list[Any], judged: dict[str, Judged]) -> bytes:
        records = _records(rows, judged, scope.lang)
        return _csv([MISSING_COLUMNS, *([r[c] for c in MISSING_COLUMNS] for r in records)])
    return _attachment(scope.made("missing.csv", make), "text/csv; charset=utf-8",
                       f"socle-equipement-{at:%Y%m%d}.csv")


@router.get("/dashboard/equipment-counts.csv")
def equipment_counts_csv(request: Request, user: User, session: DbSession, state: State, at: Now) -> Response:
    """The counts per département and commune."""
    scope = Scope(request, user, session, state, at)
    ids = [r.id for r in state.profile.equipment]

    def make(rows: list[Any], judged: dict[str, Judged]) -> bytes:
        deps, communes = _counts(rows, judged)
        head = ["kind", "code", "name", "schools", "classes", "schools_without_class_count",
                *(f"{i}_lacking" for i in ids), *(f"{i}_short" for i in ids)]
        lines = [[a.kind, a.code, a.name, a.schools, a.classes, a.unknown_classes,
                  *(a.lacking.get(i, 0) for i in ids), *(a.short.get(i, 0) for i in ids)]
                 for a in (*deps, *communes)]
        return _csv([head, *lines])
    return _attachment(scope.made("counts.csv", make), "text/csv; charset=utf-8",
                       f"socle-equipement-decomptes-{at:%Y%m%d}.csv")


@router.get("/dashboard/equipment.json")
def equipment_json(request: Request, user: User, session: DbSession, state: State, at: Now) -> Response:
    """What is missing and the counts, with when and by which profile it was judged."""
    scope = Scope(request, user, session, state, at)

    def make(rows: list[Any], judged: dict[str, Judged]) -> bytes:
        deps, communes = _counts(rows, judged)
        body = json.dumps({"missing": _records(rows, judged, scope.lang),
                           "departements": [asdict(a) for a in deps],
                           "communes": [asdict(a) for a in communes]}, ensure_ascii=False)
        return body[1:].encode("utf-8")  # the object's members and its closing brace
    rest = scope.made("missing.json", make)  # judged as of now: the facts have not changed since
    head = json.dumps({"evaluated_at": at.isoformat(), "profile_id": state.profile.profile.id})
    return _attachment(b"".join((head[:-1].encode("utf-8"), b", ", rest)), "application/json",
                       f"socle-equipement-{at:%Y%m%d}.json")


def declarer(user: ApiToken) -> str:
    """Who a dashboard declaration is by: the token's label (or id) and role."""
    return f"{user.label or 'token ' + user.token_id[:8]} ({user.role}, dashboard)"


@router.post("/dashboard/schools/{uai}/equipment")
def declare(request: Request, uai: str, user: FormUser, session: DbSession, state: State, at: Now,
            item: Annotated[str, Form()], count: Annotated[str, Form()], room: Annotated[str, Form()] = "",
            note: Annotated[str, Form()] = "") -> Response:
    """Record a declaration from the school page's form (technicians and admins); back to the page."""
    school = readable_school(session, user, uai)
    require(user.role, user.scope, Action.enroll, school)
    try:
        d = ItemDeclaration.model_validate({"uai": school.uai, "room": room, "item": item,
                                            "count": count.strip(), "note": note.strip() or None})
    except ValidationError as exc:
        return school_page_response(request, user, session, state, at, uai, "school.html", status_code=422,
                                    equipment_error=field_errors(exc))
    set_item(session, d, declarer(user), "dashboard", at)
    session.commit()
    return RedirectResponse(f"/dashboard/schools/{school.uai}?declared={d.item.value}#equipment",
                            status_code=303)
