"""Exports of the school list: CSV and JSON, with each school's level, since when it holds
(``level_since``) and failing rules, and, for a school with an internet contract, its contracted
and measured rates.

The CSV follows the national directory's own conventions (semicolon, UTF-8 with
a byte-order mark, CRLF) so that a spreadsheet set to French opens it as it
opens the directory; for a French reader its headers and values are French
(levels in words, oui/non, decimal commas), for an English one they are the
JSON's identifiers. The printable per-school report is a page of the
dashboard (``/dashboard/schools/{uai}/report``) with a print stylesheet.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from collector.api.deps import DbSession, Now, State
from collector.dashboard.auth import User
from collector.dashboard.contract import ContractFigures
from collector.dashboard.i18n import translator
from collector.dashboard.overview import SchoolLine, select_schools
from collector.dashboard.render import language
from collector.dashboard.status import cache_of
from collector.dashboard.views import filters_from

COLUMNS = ("uai", "name", "commune", "departement", "academie", "school_type", "pupils", "level",
           "silent", "failing_rules", "commune_code", "circonscription", "classes",
           "contract_provider", "contract_technology", "contract_download_mbps", "contract_upload_mbps",
           "measured_download_mbps", "measured_upload_mbps", "download_pct_of_contract",
           "upload_pct_of_contract", "level_since")

# The CSV's column headers for a French reader (the JSON, read by tools, keeps the identifiers).
HEADERS_FR = {
    "uai": "UAI", "name": "Nom", "commune": "Commune", "departement": "Département", "academie": "Académie",
    "school_type": "Type", "pupils": "Élèves", "level": "Niveau", "silent": "Silencieuse",
    "failing_rules": "Règles non respectées", "commune_code": "Code commune (INSEE)",
    "circonscription": "Circonscription", "classes": "Classes", "contract_provider": "Fournisseur",
    "contract_technology": "Technologie", "contract_download_mbps": "Descendant contracté (Mbit/s)",
    "contract_upload_mbps": "Montant contracté (Mbit/s)",
    "measured_download_mbps": "Descendant mesuré (Mbit/s)", "measured_upload_mbps": "Montant mesuré (Mbit/s)",
    "download_pct_of_contract": "Descendant (% du contrat)",
    "upload_pct_of_contract": "Montant (% du contrat)", "level_since": "Niveau depuis",
}

router = APIRouter(include_in_schema=False)


def _pct(share: float | None) -> float | None:
    return None if share is None else round(100 * share, 1)


_NO_CONTRACT = (None,) * (COLUMNS.index("level_since") - COLUMNS.index("contract_provider"))


def _contract(c: ContractFigures | None) -> tuple[Any, ...]:
    """A school's contract and what it gets of it, in COLUMNS' order from ``contract_provider`` (measured:
    the profile's rules' figure; all empty when the school has no contract)."""
    if c is None:
        return _NO_CONTRACT
    d, u = c.download, c.upload
    return (c.provider, c.technology, d.contracted_mbps, u.contracted_mbps, d.measured_mbps, u.measured_mbps,
            _pct(d.share), _pct(u.share))


def values(line: SchoolLine) -> list[Any]:
    """One school's export values, in :data:`COLUMNS` order (the failing rules as a list)."""
    return [line.uai, line.name, line.commune, line.departement, line.academie, line.school_type,
            line.pupils, line.level, line.silent, list(line.failing), line.commune_code, line.circonscription,
            line.classes, *_contract(line.contract), None if line.since is None else line.since.isoformat()]


def record(line: SchoolLine) -> dict[str, Any]:
    """One school as an export record."""
    return dict(zip(COLUMNS, values(line), strict=True))


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what makes a spreadsheet read a cell as a formula


def cell(value: Any) -> Any:
    """A value as a CSV cell a spreadsheet shows as it is: unknown is empty, and a text that a
    spreadsheet would run as a formula is quoted with a leading apostrophe (OWASP's CSV injection
    advice). Numbers are left as numbers."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


_LEVEL, _SILENT, _FAILING, _TECH = (COLUMNS.index(c) for c in ("level", "silent", "failing_rules",
                                                                   "contract_technology"))


def to_csv(lines: Iterable[SchoolLine], lang: str = "en") -> str:
    """The schools as CSV text (failing rules joined by spaces; unknown values empty): for a French
    reader with French headers and values — words for the level, the technology and yes/no, a comma
    before decimals (a point would make it a text or a date) —, else with the JSON's identifiers."""
    out = io.StringIO(newline="")
    w = csv.writer(out, delimiter=";", lineterminator="\r\n")
    t = translator(lang)
    fr = lang == "fr"
    w.writerow([HEADERS_FR.get(c, c) for c in COLUMNS] if fr else COLUMNS)
    words: dict[str, str] = {}  # the few levels and technologies, each translated once

    def word(key: str) -> str:
        found = words.get(key)
        if found is None:
            found = words[key] = t(key)
        return found

    yes, no = (t("yes"), t("no")) if fr else ("1", "0")
    for line in lines:
        v = values(line)
        v[_FAILING] = " ".join(v[_FAILING])
        v[_SILENT] = yes if v[_SILENT] else no
        if fr:
            v[_LEVEL] = word(f"level.{v[_LEVEL]}")
            if v[_TECH]:
                v[_TECH] = word(f"tech.{v[_TECH]}")
            w.writerow(["" if x is None else repr(x).replace(".", ",") if type(x) is float else
                        x if i in (_LEVEL, _TECH, _SILENT) else cell(x) for i, x in enumerate(v)])
        else:
            w.writerow([cell(x) for x in v])
    return out.getvalue()


def to_json(lines: Iterable[SchoolLine], at: datetime, profile_id: str) -> str:
    """The schools as a JSON document with when and by which profile they were judged; compact, so that
    the C encoder writes it (an indented one goes through Python's encoder, many times slower)."""
    return json.dumps({"evaluated_at": at.isoformat(), "profile_id": profile_id,
                       "schools": [record(line) for line in lines]}, ensure_ascii=False)


def _lines(request: Request, user: User, session: DbSession, state: State, at: Now) -> list[SchoolLine]:
    p = request.query_params
    f = filters_from(p.get("q", ""), p.get("commune", ""), p.get("departement", ""), p.get("level", ""),
                     p.get("rule", ""), contract=p.get("contract", ""), since_days=p.get("since_days", ""),
                     sort=p.get("sort", ""))
    lines, _, _ = select_schools(session, state.profile, at, cache_of(request.app.state), user, f)
    return lines


@router.get("/dashboard/export.csv")
def export_csv(request: Request, user: User, session: DbSession, state: State, at: Now) -> Response:
    """The filtered list as CSV (every page)."""
    body = "\ufeff" + to_csv(_lines(request, user, session, state, at), language(request))
    name = f"socle-ecoles-{at:%Y%m%d}.csv"
    return Response(body.encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/dashboard/export.json")
def export_json(request: Request, user: User, session: DbSession, state: State, at: Now) -> Response:
    """The filtered list as JSON (every page)."""
    body = to_json(_lines(request, user, session, state, at), at, state.profile.profile.id)
    name = f"socle-ecoles-{at:%Y%m%d}.json"
    return Response(body.encode("utf-8"), media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
