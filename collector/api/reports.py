"""The ingest endpoints, ``POST /api/v1/reports`` and ``POST /api/v1/reports/batch``: each one handler
from the request's bytes to its answer.

Every nightly report comes through here, so the framework routes the request and
does nothing more (:class:`RawRoute`: no body parsing, no dependency solving).
The handler reads the body, validates it once, straight from its bytes, turns
each valid report into its row and samples (collector/ingest/group.py), hands
the request's work to the process's writer (collector/ingest/writer.py) and
answers once it is committed: a 2xx means "stored".

Answers, first to last:

1. a body that is not JSON at all: 422;
2. no credential: 401; an incarnation header longer than one can be: 422;
3. an unknown or revoked credential: 401; a machine told it is a clone: 409;
4. an invalid body: 422, every error with its field path;
5. ``/reports``: a report for another school 403, else 201 stored or 200 duplicate;
   ``/reports/batch``: 200 with one answer per item, in order: stored, duplicate,
   or refused with the reason (an invalid item, a report for another school),
   so one bad report never blocks the others.
"""

from __future__ import annotations

import asyncio
import inspect
import uuid
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from collector.api.deps import AppState, bearer, refusal
from collector.auth.tokens import hash_secret
from collector.edge.errors import invalid
from collector.errors import StoreError
from collector.ingest.group import Job, Outcome, Prepared, prepare
from config.wire import (
    INCARNATION_HEADER,
    INCARNATION_MAX_CHARS,
    BatchIngestResponse,
    BatchItemResult,
    IngestResponse,
    Report,
    ReportBatch,
)

PATHS = ("/api/v1/reports", "/api/v1/reports/batch")
THREAD_ABOVE = 8  # batch items validated one by one in a worker thread above this, not in the event loop
BIG_BODY = 256 * 1024  # bytes: a body validated in a worker thread above this, not in the event loop
_WS = b" \t\r\n"  # JSON's whitespace
Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class _WholeBatch(BaseModel):
    """A batch whose every report is valid: the one validation of the usual body."""

    model_config = ReportBatch.model_config
    reports: list[Report] = Field(min_length=1, max_length=500)


_ONE = TypeAdapter(Report)
_WHOLE_BATCH = TypeAdapter(_WholeBatch)
_ENVELOPE = TypeAdapter(ReportBatch)


def raw_route(body: type[BaseModel]) -> type[APIRoute]:
    """A route class whose endpoint, ``endpoint(request) -> Response``, is the whole handler; the
    framework reads ``body`` (the model of the request body) for the OpenAPI document only."""

    class RawRoute(APIRoute):
        def __init__(self, path: str, endpoint: Handler, **kwargs: Any) -> None:
            self.handler = endpoint

            def document(**_: Any) -> None:  # the request as the OpenAPI document shows it
                raise AssertionError("documentation only")

            document.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
                [inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY, annotation=body)])
            document.__name__, document.__doc__ = endpoint.__name__, endpoint.__doc__
            super().__init__(path, document, **kwargs)

        def get_route_handler(self) -> Handler:
            return self.handler

    return RawRoute


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.socle
    return state


def _caller(request: Request) -> tuple[str, str | None]:
    """The request's credential (401 when missing) and incarnation (None when absent)."""
    token = bearer(request)
    value = request.headers.get(INCARNATION_HEADER)
    if value is not None and len(value) > INCARNATION_MAX_CHARS:
        raise _TooLong(value)
    return token, value or None


class _TooLong(Exception):
    """An incarnation header longer than an incarnation can be."""

    def errors(self) -> list[dict[str, Any]]:
        return [{"type": "string_too_long", "loc": ("header", INCARNATION_HEADER),
                 "msg": f"String should have at most {INCARNATION_MAX_CHARS} characters"}]


async def _run(request: Request, token: str, inc: str | None, reports: list[Prepared] | None,
               single: bool = False) -> Outcome:
    """The request's work done by the writer (``reports`` None: only admit the caller)."""
    state = _state(request)
    assert state.writer is not None  # made by the app factory
    outcome = await state.writer.run(Job(token_hash=hash_secret(token), incarnation=inc, now=state.clock(),
                                         reports=reports, single=single))
    if outcome.error is not None:
        raise refusal(outcome.error)
    return outcome


def _is_json(request: Request) -> bool:
    kind = request.headers.get("content-type")
    if kind is None:
        return True  # no type said: read as JSON
    kind = kind.split(";")[0].strip().lower()
    return kind == "application/json" or kind.endswith("+json")


async def _validated(adapter: TypeAdapter[Any], body: bytes) -> Any:
    """The body validated whole from its bytes (in a worker thread when big); raises ValidationError."""
    if len(body) > BIG_BODY:
        return await asyncio.to_thread(adapter.validate_json, body)
    return adapter.validate_json(body)


async def _refused(request: Request, exc: ValidationError | None) -> Response:
    """The answer to an invalid body (``exc`` None: not JSON by its type): 422 at once when it is not
    even JSON, else the caller's 401 or 409 first, then the 422."""
    errors = ([{"type": "content_type", "loc": (), "msg": "the body must be JSON (application/json)"}]
              if exc is None else exc.errors(include_input=False))
    if any(e["type"] == "json_invalid" for e in errors):
        return invalid(errors, ("body",))
    try:
        token, inc = _caller(request)
        await _run(request, token, inc, None)
    except _TooLong as long:
        return invalid(long.errors())
    except HTTPException as refused:
        return JSONResponse({"detail": refused.detail}, refused.status_code, headers=refused.headers)
    return invalid(errors, ("body",))


def _json(model: BaseModel, status: int) -> Response:
    return Response(model.model_dump_json(), status_code=status, media_type="application/json")


async def post_report(request: Request) -> Response:
    """Store a report; the same ``report_id`` twice is stored once (200 the second time).

    Answered once committed, with other requests' reports (collector/ingest/writer.py).
    """
    body = await request.body()
    if not _is_json(request):
        return await _refused(request, None)
    try:
        report = await _validated(_ONE, body)
    except ValidationError as exc:
        return await _refused(request, exc)
    try:
        token, inc = _caller(request)
    except _TooLong as long:
        return invalid(long.errors())
    prepared = prepare(report, _state(request).clock(), body.decode())
    # The model (some 150 objects) goes now: kept while the writer works, the requests in flight
    # would keep the garbage collector walking them (collector/cli/serve.py).
    report = None
    outcome = await _run(request, token, inc, [prepared], single=True)
    stored = outcome.statuses[0] == "stored"
    return _json(IngestResponse(report_id=uuid.UUID(prepared.report_id),
                                status="stored" if stored else "duplicate"), 201 if stored else 200)


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


def _each(items: list[dict[str, Any]], now: Any) -> list[BatchItemResult | Prepared]:
    """A batch's items validated one by one: each valid one made ready, each invalid one refused."""
    out: list[BatchItemResult | Prepared] = []
    for index, raw in enumerate(items):
        try:
            out.append(prepare(Report.model_validate(raw), now))
        except ValidationError as exc:
            out.append(BatchItemResult(index=index, report_id=_raw_id(raw), status="refused",
                                       error=validation_message(exc)))
    return out


async def _batch_items(request: Request, body: bytes) -> list[BatchItemResult | Prepared] | Response:
    """The batch's items made ready (refused ones answered), or the answer to a body that is no batch.

    The nightly request is one report in a batch: its own JSON is its payload. A batch valid as a
    whole is validated once; otherwise each item on its own.
    """
    now = _state(request).clock()
    lone = lone_item(body) if len(body) <= BIG_BODY else None
    if lone is not None:
        try:
            return [prepare(_ONE.validate_json(lone), now, lone.decode())]
        except ValidationError:
            pass  # read whole below
    try:
        whole = await _validated(_WHOLE_BATCH, body)
        return [prepare(r, now) for r in whole.reports]
    except ValidationError:
        pass
    try:
        envelope = await _validated(_ENVELOPE, body)
    except ValidationError as exc:
        return await _refused(request, exc)
    items = envelope.reports
    return _each(items, now) if len(items) <= THREAD_ABOVE else await asyncio.to_thread(_each, items, now)


async def post_report_batch(request: Request) -> Response:
    """Store several reports; each gets its own answer (stored, duplicate, or refused and why).

    Answered once committed, with other requests' reports (collector/ingest/writer.py).
    """
    body = await request.body()
    if not _is_json(request):
        return await _refused(request, None)
    checked = await _batch_items(request, body)
    if isinstance(checked, Response):
        return checked
    try:
        token, inc = _caller(request)
    except _TooLong as long:
        return invalid(long.errors())
    return await _answer_batch(request, token, inc, checked)


async def _answer_batch(request: Request, token: str, inc: str | None,
                        checked: Sequence[BatchItemResult | Prepared]) -> Response:
    """Store a batch's valid reports and answer for every item, refused ones included."""
    outcome = await _run(request, token, inc, [c for c in checked if isinstance(c, Prepared)])
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


router = APIRouter(prefix="/api/v1")
router.add_api_route("/reports", post_report, methods=["POST"], status_code=201,
                     response_model=IngestResponse, route_class_override=raw_route(Report))
router.add_api_route("/reports/batch", post_report_batch, methods=["POST"],
                     response_model=BatchIngestResponse, route_class_override=raw_route(ReportBatch))
