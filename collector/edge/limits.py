"""Limits at the door: a request body limit and admission control for the API.

* a request body larger than ``settings.max_body_bytes`` is a 413, whether
  announced by ``Content-Length`` or streamed;
* at most ``MAX_CONCURRENT_API`` API requests at once per process; the rest
  wait in the event loop (no thread, no database connection).

The app factory puts them in order with the other middlewares (collector/app.py).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# API requests handled at once by one process; the others wait in the event loop. Kept below the
# database pool (collector.db.engine: 40) and the thread pool (40), so that a request holding a database
# connection never waits for a thread held by a request waiting for a connection (a deadlock).
MAX_CONCURRENT_API = 24


async def send_json(send: Send, status: int, detail: str,
                    extra: Sequence[tuple[bytes, bytes]] = ()) -> None:
    """Answer a raw ASGI request with ``{"detail": ...}``."""
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *extra]})
    await send({"type": "http.response.body", "body": body})


class CleanPath:
    """A request whose path holds a NUL or another control character names no page: 404, before any
    route (or file system call) sees it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] in ("http", "websocket") else ""
        if any(ord(c) < 32 or ord(c) == 127 for c in path):
            if scope["type"] == "http":
                await send_json(send, 404, "no such page")
            else:
                await send({"type": "websocket.close", "code": 1008})
            return
        await self.app(scope, receive, send)


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
    """Admit at most ``limit`` API requests at once; the rest queue without holding a thread.

    Requests for the ``unlimited`` paths are let through: the ingest endpoints hold neither a thread
    nor a connection while they wait for the writer (collector/ingest/writer.py), and the more of
    them wait together, the larger its groups.
    """

    def __init__(self, app: ASGIApp, limit: int, unlimited: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.limit = limit
        self.unlimited = unlimited
        self._semaphore: asyncio.Semaphore | None = None  # made in the serving event loop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or not path.startswith("/api/") or path in self.unlimited:
            await self.app(scope, receive, send)
            return
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.limit)
        async with self._semaphore:
            await self.app(scope, receive, send)
