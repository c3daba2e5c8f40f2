"""What stands between the network and the API: body limit, security headers, proxies, clean 422s.

:func:`install` adds, outermost first:

* the forwarded-header trust: ``X-Forwarded-For``/``-Proto`` are read only when the
  peer is one of ``settings.trusted_proxies`` (uvicorn's own middleware); from
  anyone else they are ignored;
* admission control: at most ``MAX_CONCURRENT_API`` API requests at once per
  process, the rest wait in the event loop (no thread, no database connection);
* a request body limit: more than ``settings.max_body_bytes`` is a 413, whether
  announced by ``Content-Length`` or streamed;
* security headers on every response (a strict Content-Security-Policy on HTML,
  HSTS when the request came over HTTPS, ``no-store`` on the API);
* a 422 for every invalid body that names the field path, and never echoes the
  input back (so NaN, infinities or a megabyte of junk cannot break the answer).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from config.collector_settings import CollectorSettings

log = logging.getLogger("socle.collector.http")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# API requests handled at once by one process; the others wait in the event loop. Kept below the
# database pool (collector.db: 40) and the thread pool (40), so that a request holding a database
# connection never waits for a thread held by a request waiting for a connection (a deadlock).
MAX_CONCURRENT_API = 24
UNLIMITED = frozenset({"/api/v1/reports", "/api/v1/reports/batch"})  # async, no thread, no connection

CSP_HTML = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
HSTS = "max-age=31536000"


async def send_json(send: Send, status: int, detail: str,
                    extra: Sequence[tuple[bytes, bytes]] = ()) -> None:
    """Answer a raw ASGI request with ``{"detail": ...}``."""
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *extra]})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuse request bodies larger than ``limit`` bytes with a 413."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = f"request body larger than {self.limit} bytes"
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    announced = int(value)
                except ValueError:
                    await send_json(send, 400, "unreadable Content-Length")
                    return
                if announced > self.limit:
                    await send_json(send, 413, too_large)
                    return
                await self.app(scope, receive, send)  # the server holds the body to its length
                return
        # No length announced (chunked): read the body here, up to the limit, then replay it.
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.limit:
                await send_json(send, 413, too_large)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, replay(b"".join(chunks), receive), send)


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` again, whole, then what the client sends next (its leaving)."""
    given = False

    async def again() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


class ConcurrencyLimit:
    """Admit at most ``limit`` API requests at once; the rest queue without holding a thread."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self._semaphore: asyncio.Semaphore | None = None  # made in the serving event loop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        # The ingest endpoints hold neither a thread nor a connection while they wait for the
        # writer (collector/ingest_writer.py): not limited, so that their groups can grow.
        if scope["type"] != "http" or not path.startswith("/api/") or path in UNLIMITED:
            await self.app(scope, receive, send)
            return
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.limit)
        async with self._semaphore:
            await self.app(scope, receive, send)


class SecurityHeaders:
    """Add security headers to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"
        path = str(scope.get("path", ""))
        api = path.startswith("/api/")
        # FastAPI's own /docs pages load their script from a CDN: they keep the other headers only.
        csp = path not in ("/docs", "/redoc", "/docs/oauth2-redirect")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                add = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                       (b"referrer-policy", b"no-referrer")]
                if csp and content_type.startswith(b"text/html"):
                    add.append((b"content-security-policy", CSP_HTML.encode()))
                if https:
                    add.append((b"strict-transport-security", HSTS.encode()))
                if api:
                    add.append((b"cache-control", b"no-store"))
                headers += [(k, v) for k, v in add if k not in names]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def _clean_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc = [part if isinstance(part, int | str) else str(part) for part in err.get("loc", ())]
        out.append({"type": str(err.get("type", "invalid")), "loc": loc, "msg": str(err.get("msg", ""))})
    return out


def install(app: FastAPI, settings: CollectorSettings) -> None:
    """Add proxy trust, access log, security headers, rate limit, body limit and error handlers.

    Outermost first, as a request meets them; ``/metrics`` is mounted too.
    """
    from collector import metrics
    from collector.ratelimit import RateLimit

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        from collector.ingest_http import refusal_before_invalid

        refused = await refusal_before_invalid(request, exc)  # an agent's 401/409 comes first
        return refused or JSONResponse({"detail": _clean_errors(exc)}, status_code=422)

    @app.exception_handler(RecursionError)
    async def _too_deep(_request: Request, _exc: RecursionError) -> JSONResponse:
        return JSONResponse({"detail": "request body nested too deeply"}, status_code=422)

    app.include_router(metrics.router)
    # add_middleware puts each new one outside the previous ones.
    from collector.ingest_http import IngestFastPath

    app.add_middleware(IngestFastPath)
    app.add_middleware(ConcurrencyLimit, limit=MAX_CONCURRENT_API)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    if settings.rate_limit_per_minute > 0:
        app.add_middleware(RateLimit, per_minute=settings.rate_limit_per_minute,
                           burst=settings.rate_limit_burst)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(metrics.AccessLog)
    if settings.trusted_proxies:
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))
