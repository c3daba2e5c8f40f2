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
from collections.abc import Callable, Iterable
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


def _contract(c: ContractFigures | None) -> dict[str, Any]:
    """A school's contract and what it gets of it (measured: the profile's rules' figure; empty when none)."""
    if c is None:
        return dict.fromkeys(COLUMNS[COLUMNS.index("contract_provider"):COLUMNS.index("level_since")])
    out: dict[str, Any] = {"contract_provider": c.provider, "contract_technology": c.technology}
    for key, rate in (("download", c.download), ("upload", c.upload)):
        out[f"contract_{key}_mbps"] = rate.contracted_mbps
        out[f"measured_{key}_mbps"] = rate.measured_mbps
        out[f"{key}_pct_of_contract"] = _pct(rate.share)
    return out


def record(line: SchoolLine) -> dict[str, Any]:
    """One school as an export record."""
    return {"uai": line.uai, "name": line.name, "commune": line.commune, "departement": line.departement,
            "academie": line.academie, "school_type": line.school_type, "pupils": line.pupils,
            "level": line.level, "silent": line.silent, "failing_rules": list(line.failing),
            "commune_code": line.commune_code, "circonscription": line.circonscription,
            "classes": line.classes, **_contract(line.contract),
            "level_since": None if line.since is None else line.since.isoformat()}


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


def _french(column: str, value: Any, t: Callable[..., str]) -> Any:
    """A record's value as a French spreadsheet reads it: words for the level, the technology and
    yes/no, a comma before decimals (a point would make it a text or a date)."""
    if column == "level":
        return t(f"level.{value}")
    if column == "contract_technology" and value:
        return t(f"tech.{value}")
    if column == "silent":
        return t("yes") if value else t("no")
    if isinstance(value, float):
        return repr(value).replace(".", ",")
    return cell(value)


def to_csv(lines: Iterable[SchoolLine], lang: str = "en") -> str:
    """The schools as CSV text (failing rules joined by spaces; unknown values empty): for a French
    reader with French headers and values (:func:`_french`), else with the JSON's identifiers."""
    out = io.StringIO(newline="")
    w = csv.writer(out, delimiter=";", lineterminator="\r\n")
    t = translator(lang)
    w.writerow([HEADERS_FR.get(c, c) for c in COLUMNS] if lang == "fr" else COLUMNS)
    for line in lines:
        r = record(line)
        r["failing_rules"] = " ".join(r["failing_rules"])
        if lang == "fr":
            w.writerow([_french(c, r[c], t) if r[c] is not None else "" for c in COLUMNS])
        else:
            r["silent"] = "1" if r["silent"] else "0"
            w.writerow([cell(r[c]) for c in COLUMNS])
    return out.getvalue()


def to_json(lines: Iterable[SchoolLine], at: datetime, profile_id: str) -> str:
    """The schools as a JSON document with when and by which profile they were judged."""
    return json.dumps({"evaluated_at": at.isoformat(), "profile_id": profile_id,
                       "schools": [record(line) for line in lines]}, ensure_ascii=False, indent=1)


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
