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
from collections.abc import Sequence
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from collector.deps import AppState, bearer
from collector.hardening import replay
from collector.ingest_group import Job, Outcome, Prepared
from collector.ingest_statements import report_row
from collector.sample_sets import pack
from collector.store import StoreError
from collector.tokens import hash_secret
from config.wire import BatchIngestResponse, BatchItemResult, IngestResponse, Report, ReportBatch

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


def prepare(report: Report, now: Any, raw: str | None = None) -> Prepared:
    """A valid report's row (``agent_id`` is added by the writer) and its samples; ``raw``: the report's
    JSON as received, kept as its payload (else the payload is written from the model)."""
    row = report_row(report, now, raw)
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


async def ingest_one(request: Request, report: Report, raw: str | None = None) -> Response:
    """``POST /reports``: 201 stored, 200 when its ``report_id`` is already here (``raw``: its JSON)."""
    token = bearer(request)
    inc = incarnation(request)
    return await _store_one(request, token, inc, prepare(report, _state(request).clock(), raw))


async def _store_one(request: Request, token: str, inc: str | None, prepared: Prepared) -> Response:
    """Store one report made ready and answer for it (201 stored, 200 duplicate)."""
    outcome = await _run(request, token, inc, [prepared], single=True)
    status = outcome.statuses[0]
    if isinstance(status, StoreError):  # pragma: no cover - a single job's refusal is outcome.error
        raise status
    return _json(IngestResponse(report_id=uuid.UUID(prepared.report_id), status="stored"
                                if status == "stored" else "duplicate"), 201 if status == "stored" else 200)


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
    return await _store_batch(request, token, inc, checked)


async def _store_batch(request: Request, token: str, inc: str | None,
                       checked: Sequence[BatchItemResult | Prepared]) -> Response:
    """Store a batch's valid reports and answer for every item, refused ones included."""
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


class _WholeBatch(BaseModel):
    """A batch whose every report is valid: the fast path's one validation of the body."""

    model_config = ReportBatch.model_config
    reports: list[Report] = Field(min_length=1, max_length=500)


_WHOLE_BATCH = TypeAdapter(_WholeBatch)
_ONE = TypeAdapter(Report)
_WS = b" \t\r\n"  # JSON's whitespace
BIG_BODY = 256 * 1024  # bytes: validated in a worker thread above this, not in the event loop


def _is_json(request: Request) -> bool:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return kind == "application/json" or kind.endswith("+json")


async def _parse(adapter: TypeAdapter[Any], body: bytes) -> Any | None:
    """The body validated whole from its bytes, or None when anything in it is invalid."""
    try:
        if len(body) > BIG_BODY:
            return await asyncio.to_thread(adapter.validate_json, body)
        return adapter.validate_json(body)
    except ValidationError:
        return None


def lone_item(body: bytes) -> bytes | None:
    """The text between the brackets of a body written ``{"reports": [...]}`` (JSON whitespace allowed),
    or None when it is not written that way. When that text validates alone as one report, the body is
    exactly a batch of that one report (nothing else can stand around it)."""
    head, key, rest = body.partition(b'"reports"')
    if not key or head.strip(_WS) != b"{":
        return None
    rest = rest.lstrip(_WS)
    if rest[:1] != b":":
        return None
    rest = rest[1:].strip(_WS)
    if rest[:1] != b"[" or rest[-1:] != b"}":
        return None
    rest = rest[:-1].rstrip(_WS)
    return rest[1:-1].strip(_WS) if rest[-1:] == b"]" else None


async def _fast_batch(request: Request, body: bytes) -> Response | None:
    lone = lone_item(body) if len(body) <= BIG_BODY else None
    one = None if lone is None else await _parse(_ONE, lone)
    if one is not None and lone is not None:  # the usual nightly request: its own JSON is the payload
        prepared = [prepare(one, _state(request).clock(), lone.decode())]
    else:
        batch = await _parse(_WHOLE_BATCH, body)
        if batch is None:
            return None
        now = _state(request).clock()
        prepared = [prepare(r, now) for r in batch.reports]
    one = batch = None  # the models go now, not kept while the writer works (see _fast_one)
    return await _store_batch(request, bearer(request), incarnation(request), prepared)


async def _fast_one(request: Request, body: bytes) -> Response | None:
    report = await _parse(_ONE, body)
    if report is None:
        return None
    token, inc = bearer(request), incarnation(request)
    prepared = prepare(report, _state(request).clock(), body.decode())
    # The model (some 150 objects) goes now: kept while the writer works, the requests in flight
    # would keep the garbage collector walking them (collector/serving.py).
    report = None
    return await _store_one(request, token, inc, prepared)


async def _read(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ConnectionError("client gone")
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


_FAST_PATHS = {PATHS[0]: _fast_one, PATHS[1]: _fast_batch}


class IngestFastPath:
    """ASGI middleware, innermost: the ingest endpoints' usual request, a JSON body valid as a whole from
    an agent the writer accepts, is validated once straight from its bytes, stored and answered here,
    without the framework's routing, body parsing and dependency solving. Any other request (an
    invalid report, a body that is not JSON, a refused credential) goes on to the endpoints with its
    body given again, which answer it as before: per-item refusals, 401/409 before 422, field paths.

    The outer middlewares (access log, security headers, body limit, rate limit) apply as to any
    request.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fast = _FAST_PATHS.get(scope.get("path", "")) if scope["type"] == "http" else None
        if fast is None or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        if not _is_json(request):
            await self.app(scope, receive, send)
            return
        try:
            body = await _read(receive)
        except ConnectionError:
            return  # the client left before its body came: nobody to answer
        try:
            answer = await fast(request, body)
        except (HTTPException, RequestValidationError, StoreError):
            answer = None  # refused: the endpoint says it, in its own words
        if answer is None:
            await self.app(scope, replay(body, receive), send)
            return
        await answer(scope, receive, send)
