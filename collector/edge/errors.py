"""Refusals as answers: the collector's own refusals, invalid requests and too-deep bodies, as JSON.

* a :class:`~collector.errors.StoreError` is ``{"detail": message}`` with its status;
* an invalid request is a 422 whose every error names its field path (``loc``)
  and never echoes the input back, so NaN, infinities or a megabyte of junk
  cannot break the answer; the ingest endpoints answer theirs with
  :func:`invalid` too (collector/api/reports.py);
* a body nested too deeply for the parser is a 422 that says so.

The app factory registers the handlers (collector/app.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from collector.errors import StoreError


def clean_errors(errors: Iterable[Mapping[str, Any]], prefix: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Validation errors as the API answers them: type, field path (after ``prefix``) and message."""
    out = []
    for err in errors:
        loc = [part if isinstance(part, int | str) else str(part) for part in (*prefix, *err.get("loc", ()))]
        out.append({"type": str(err.get("type", "invalid")), "loc": loc, "msg": str(err.get("msg", ""))})
    return out


def invalid(errors: Iterable[Mapping[str, Any]], prefix: tuple[str, ...] = ()) -> JSONResponse:
    """The 422 answer to these validation errors."""
    return JSONResponse({"detail": clean_errors(errors, prefix)}, status_code=422)


async def on_invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
    """A request the framework found invalid (a route's parameters or body)."""
    return invalid(exc.errors())


async def on_store_error(_request: Request, exc: StoreError) -> JSONResponse:
    """A refusal of the collector's own."""
    return JSONResponse({"detail": exc.message}, status_code=exc.status)


async def on_too_deep(_request: Request, _exc: RecursionError) -> JSONResponse:
    """A body nested deeper than the parser goes."""
    return JSONResponse({"detail": "request body nested too deeply"}, status_code=422)
