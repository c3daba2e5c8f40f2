"""The ingest endpoints' side of the event loop: credential, body to rows, the writer's answer.

``POST /api/v1/reports`` and ``POST /api/v1/reports/batch`` are async and use no
dependency: the body is parsed and validated here (FastAPI's body parameter, then
each batch item on its own), each valid report becomes its row and samples, and
the request's work goes to the process's writer (collector/ingest_writer.py),
which answers once it is committed. The answers are those of the former
synchronous endpoints, in the same order of precedence: a missing credential
(401) or an over-long incarnation header (422) first, then an unknown credential
(401) or a cloned machine (409), then an invalid body (422), then a report for
another school (403) and per-item answers.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from collector.deps import AppState, bearer
from collector.ingest_group import Job, Outcome, Prepared
from collector.ingest_sql import report_row
from collector.sample_sets import pack
from collector.store import StoreError
from collector.tokens import hash_secret
from config.wire import BatchIngestResponse, BatchItemResult, IngestResponse, Report

PATHS = ("/api/v1/reports", "/api/v1/reports/batch")
INCARNATION_HEADER = "X-Socle-Incarnation"
INCARNATION_MAX = 64
THREAD_ABOVE = 8  # batch items validated in a worker thread above this, not in the event loop
_WWW = {"WWW-Authenticate": "Bearer"}


def incarnation(request: Request) -> str | None:
    """The request's incarnation header, or a 422 when it is longer than an incarnation can be."""
    value = request.headers.get(INCARNATION_HEADER)
    if value is not None and len(value) > INCARNATION_MAX:
        raise RequestValidationError([{"type": "string_too_long", "loc": ("header", INCARNATION_HEADER),
                                       "msg": f"String should have at most {INCARNATION_MAX} characters",
                                       "input": value, "ctx": {"max_length": INCARNATION_MAX}}])
    return value or None


def prepare(report: Report, now: Any) -> Prepared:
    """A valid report's row (``agent_id`` is added by the writer) and its samples."""
    row = report_row(report, now)
    return Prepared(report_id=row["report_id"], school_uai=report.school_uai, row=row, samples=pack(report))


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.socle
    return state


async def _run(request: Request, token: str, inc: str | None, reports: list[Prepared] | None,
               single: bool = False) -> Outcome:
    state = _state(request)
    assert state.writer is not None  # made by create_app
    outcome = await state.writer.run(Job(token_hash=hash_secret(token), incarnation=inc, now=state.clock(),
                                         reports=reports, single=single))
    if outcome.error is not None:
        if outcome.error.status == 401:
            raise HTTPException(401, outcome.error.message, headers=_WWW)
        raise outcome.error
    return outcome


def _json(model: Any, status: int) -> Response:
    return Response(model.model_dump_json(), status_code=status, media_type="application/json")


async def ingest_one(request: Request, report: Report) -> Response:
    """``POST /reports``: 201 stored, 200 when its ``report_id`` is already here."""
    token = bearer(request)
    inc = incarnation(request)
    outcome = await _run(request, token, inc, [prepare(report, _state(request).clock())], single=True)
    status = outcome.statuses[0]
    if isinstance(status, StoreError):  # pragma: no cover - a single job's refusal is outcome.error
        raise status
    return _json(IngestResponse(report_id=report.report_id, status="stored" if status == "stored"
                                else "duplicate"), 201 if status == "stored" else 200)


def _raw_id(raw: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(raw.get("report_id"))) if isinstance(raw, dict) else None
    except ValueError:
        return None


def validation_message(exc: ValidationError, limit: int = 5) -> str:
    """A validation error as ``field.path: reason`` lines, joined by '; '."""
    parts = [f"{'.'.join(str(p) for p in err['loc']) or '(report)'}: {err['msg']}"
             for err in exc.errors()[:limit]]
    more = exc.error_count() - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _validate(items: list[dict[str, Any]], now: Any) -> list[BatchItemResult | Prepared]:
    out: list[BatchItemResult | Prepared] = []
    for index, raw in enumerate(items):
        try:
            out.append(prepare(Report.model_validate(raw), now))
        except ValidationError as exc:
            out.append(BatchItemResult(index=index, report_id=_raw_id(raw), status="refused",
                                       error=validation_message(exc)))
    return out


async def ingest_many(request: Request, items: list[dict[str, Any]]) -> Response:
    """``POST /reports/batch``: each item validated and stored on its own; answers in the items' order."""
    token = bearer(request)
    inc = incarnation(request)
    now = _state(request).clock()
    checked = (_validate(items, now) if len(items) <= THREAD_ABOVE
               else await asyncio.to_thread(_validate, items, now))
    valid = [c for c in checked if isinstance(c, Prepared)]
    outcome = await _run(request, token, inc, valid)
    statuses = iter(outcome.statuses)
    results = []
    for index, item in enumerate(checked):
        if isinstance(item, BatchItemResult):
            results.append(item)
            continue
        status = next(statuses)
        rid = uuid.UUID(item.report_id)
        if isinstance(status, StoreError):
            results.append(BatchItemResult(index=index, report_id=rid, status="refused",
                                           error=status.message))
        else:
            results.append(BatchItemResult(index=index, report_id=rid,
                                           status="stored" if status == "stored" else "duplicate"))
    return _json(BatchIngestResponse(results=results), 200)


async def refusal_before_invalid(request: Request, exc: RequestValidationError) -> Response | None:
    """For an ingest request whose body is invalid, the 401 or 409 that comes first, if any.

    An unreadable body (not JSON) is a 422 before anything else, as before.
    """
    if request.method != "POST" or request.url.path not in PATHS:
        return None
    if any(err.get("type") == "json_invalid" for err in exc.errors()):
        return None
    try:
        token = bearer(request)
        inc = incarnation(request)
    except HTTPException as refused:
        return JSONResponse({"detail": refused.detail}, status_code=refused.status_code, headers=_WWW)
    except RequestValidationError:
        return None
    try:
        await _run(request, token, inc, None)
    except HTTPException as refused:
        return JSONResponse({"detail": refused.detail}, status_code=refused.status_code, headers=_WWW)
    except StoreError as refused:
        return JSONResponse({"detail": refused.message}, status_code=refused.status)
    return None
