"""The collector's ndt7 speed-test server (M-Lab's ndt7 protocol, spec v0.9).

Two WebSocket endpoints, ``/ndt/v7/download`` and ``/ndt/v7/upload``, with the
subprotocol ``net.measurementlab.ndt.v7``. During a download the server sends
binary messages of random (incompressible) bytes, growing from 8 KiB to 1 MiB,
and every 250 ms a JSON measurement; during an upload it discards what the
client sends, counts it, and every 250 ms tells the client what it received.
That received count (``TCPInfo.BytesReceived`` from the kernel, and
``AppInfo.NumBytes`` at the application) is what an upload figure must come
from: the sender's count includes what is still sitting in its buffers.

Measurements carry the kernel's ``TCP_INFO`` (min RTT, RTT, bytes acked and
received, retransmissions) where the platform gives it; the socket is found
through the ASGI server's transport (uvicorn's protocol object owns it). An
upload measurement is read just after the received count moves and dated then
(``config.tcpinfo.read_when_moved``): read between two of the kernel's batches,
the count would lag its time by up to one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.responses import PlainTextResponse

from collector.api.deps import AppState
from collector.auth.credentials import may_run_speed_tests
from config.tcpinfo import limit_unsent, read_tcp_info, read_when_moved

log = logging.getLogger(__name__)

SUBPROTOCOL = "net.measurementlab.ndt.v7"
MEASURE_INTERVAL_S = 0.25  # the spec's floor between measurement messages
MIN_MESSAGE = 1 << 13
MAX_MESSAGE = 1 << 20
MAX_QUERY = 4096
UNSENT_LOWAT = 1 << 17  # bytes the kernel may hold unsent: keeps the stop prompt


def find_socket(websocket: WebSocket) -> Any:
    """The TCP socket under an ASGI WebSocket, when the server exposes its transport.

    uvicorn hands the app its protocol object's bound ``receive``; that object
    owns the asyncio transport, whose ``socket`` extra is the kernel socket.
    Other servers (or the test client) give None.
    """
    receive = getattr(websocket, "_receive", None)
    owner = getattr(receive, "__self__", None)
    transport = getattr(owner, "transport", None)
    if transport is None or not hasattr(transport, "get_extra_info"):
        return None
    return transport.get_extra_info("socket")


def measurement(test: str, elapsed_s: float, app_bytes: int, tcp: dict[str, int] | None,
                conn: dict[str, str]) -> dict[str, Any]:
    """One ndt7 measurement message (times in microseconds, as M-Lab sends them)."""
    elapsed_us = int(elapsed_s * 1e6)
    msg: dict[str, Any] = {
        "AppInfo": {"ElapsedTime": elapsed_us, "NumBytes": app_bytes},
        "ConnectionInfo": conn,
        "Origin": "server",
        "Test": test,
    }
    if tcp is not None:
        msg["TCPInfo"] = {**tcp, "ElapsedTime": elapsed_us}
    return msg


def _connection_info(websocket: WebSocket) -> dict[str, str]:
    def addr(a: Any) -> str:
        return f"{a[0]}:{a[1]}" if a else ""

    return {"Client": addr(websocket.scope.get("client")),
            "Server": addr(websocket.scope.get("server")),
            "UUID": str(uuid.uuid4())}


async def _accept(websocket: WebSocket) -> bool:
    """Upgrade when the request is an ndt7 one; answer 400 otherwise (spec, 'Protocol')."""
    problem = None
    if SUBPROTOCOL not in websocket.scope.get("subprotocols", []):
        problem = f"missing WebSocket subprotocol {SUBPROTOCOL}"
    elif len(websocket.scope.get("query_string", b"")) > MAX_QUERY:
        problem = "query string longer than 4096 bytes"
    if problem is None:
        await websocket.accept(subprotocol=SUBPROTOCOL)
        return True
    await _deny(websocket, PlainTextResponse(problem, status_code=400))
    return False


async def _deny(websocket: WebSocket, answer: PlainTextResponse) -> None:
    try:
        await websocket.send_denial_response(answer)
    except RuntimeError:  # the server lacks the denial-response extension
        await websocket.close(code=1002 if answer.status_code == 400 else 1013)


Admits = Callable[[str], Awaitable[bool]]  # whether a credential may run speed tests


def _secret(websocket: WebSocket) -> str | None:
    """The credential a client shows: its bearer token, or an ``access_token`` in the query (a browser
    cannot set headers on a WebSocket, and gives the speed-test code there)."""
    scheme, _, token = websocket.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return websocket.query_params.get("access_token") or None


class Tests:
    """The ndt7 tests running in this process, at most ``limit`` at once: each takes the link whole, so
    two at once would each read half of it, and the process's sockets are bounded. With ``admits``,
    only a client with a credential it accepts may run one (401 otherwise)."""

    def __init__(self, limit: int | None, admits: Admits | None = None) -> None:
        self.limit = limit
        self.admits = admits
        self.running = 0

    async def run(self, websocket: WebSocket, test: Callable[[], Awaitable[None]]) -> None:
        """Run ``test`` now, or answer 503 with Retry-After when the process is running its limit."""
        if self.admits is not None:
            secret = _secret(websocket)
            if secret is None or not await self.admits(secret):
                await _deny(websocket, PlainTextResponse("this collector runs speed tests for its agents and "
                                                         "for holders of a speed-test code", status_code=401))
                return
        if self.limit is not None and self.running >= self.limit:
            log.info("ndt7: %d tests running, %s turned away", self.running,
                     _connection_info(websocket)["Client"])
            await _deny(websocket, PlainTextResponse("busy: other speed tests are running, try again shortly",
                                                     status_code=503, headers={"Retry-After": "15"}))
            return
        self.running += 1
        try:
            await test()
        finally:
            self.running -= 1


async def _download(websocket: WebSocket, max_duration_s: float) -> None:
    if not await _accept(websocket):
        return
    sock = find_socket(websocket)
    limit_unsent(sock, UNSENT_LOWAT)
    conn = _connection_info(websocket)
    payload = os.urandom(MAX_MESSAGE)
    size, sent = MIN_MESSAGE, 0
    start = time.monotonic()
    next_measure = start
    try:
        while (now := time.monotonic()) - start < max_duration_s:
            if now >= next_measure:
                m = measurement("download", now - start, sent, read_tcp_info(sock), conn)
                await websocket.send_text(json.dumps(m))
                next_measure = now + MEASURE_INTERVAL_S
            await websocket.send_bytes(payload[:size])
            sent += size
            # Grow while a message is small beside what went already (as ndt-server does).
            if size < MAX_MESSAGE and size <= sent // 16:
                size *= 2
        m = measurement("download", time.monotonic() - start, sent, read_tcp_info(sock), conn)
        await websocket.send_text(json.dumps(m))
        await websocket.close()
    except (WebSocketDisconnect, OSError, RuntimeError):
        pass  # the client stopped first: early stop or byte cap on its side
    log.info("ndt7 download to %s: %d bytes in %.2f s", conn["Client"], sent, time.monotonic() - start)


async def _upload(websocket: WebSocket, max_duration_s: float) -> None:
    if not await _accept(websocket):
        return
    sock = find_socket(websocket)
    conn = _connection_info(websocket)
    start = time.monotonic()
    received = 0

    async def report() -> None:
        try:
            while True:
                await asyncio.sleep(MEASURE_INTERVAL_S)
                moved = await asyncio.to_thread(read_when_moved, sock, "BytesReceived", time.monotonic)
                at, tcp = moved if moved is not None else (time.monotonic(), read_tcp_info(sock))
                m = measurement("upload", at - start, received, tcp, conn)
                await websocket.send_text(json.dumps(m))
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass  # the client has gone; the receive loop sees it too

    reporter = asyncio.create_task(report())
    reason = "client closed"
    try:
        while True:
            left = max_duration_s - (time.monotonic() - start)
            if left <= 0:
                reason = "max duration"
                break
            try:
                msg = await asyncio.wait_for(websocket.receive(), timeout=left)
            except TimeoutError:
                continue
            if msg["type"] == "websocket.disconnect":
                break
            data = msg.get("bytes")
            if data is not None:
                received += len(data)
            # Text messages are the client's own measurements: allowed, not needed.
    finally:
        reporter.cancel()
    if reason == "max duration":
        try:
            m = measurement("upload", time.monotonic() - start, received, read_tcp_info(sock), conn)
            await websocket.send_text(json.dumps(m))
            await websocket.close()
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass
    log.info("ndt7 upload from %s: %d bytes in %.2f s (%s)", conn["Client"], received,
             time.monotonic() - start, reason)


def admission(state: AppState) -> Admits | None:
    """Who may run speed tests, when the settings ask for a credential (None: anyone)."""
    if not state.settings.ndt7_requires_credential:
        return None

    def check(secret: str) -> bool:
        with state.sessions() as session:
            return may_run_speed_tests(session, secret, state.clock())

    async def admits(secret: str) -> bool:
        return await asyncio.to_thread(check, secret)

    return admits


def build_router(max_duration_s: float = 10.0, max_concurrent: int | None = None,
                 admits: Admits | None = None) -> APIRouter:
    """The ndt7 endpoints; each subtest lasts at most ``max_duration_s`` (the spec's 10 s), at most
    ``max_concurrent`` at once in this process (None: no limit), for clients ``admits`` accepts
    (None: anyone)."""
    router = APIRouter()
    tests = Tests(max_concurrent, admits)

    @router.websocket("/ndt/v7/download")
    async def ndt7_download(websocket: WebSocket) -> None:
        await tests.run(websocket, lambda: _download(websocket, max_duration_s))

    @router.websocket("/ndt/v7/upload")
    async def ndt7_upload(websocket: WebSocket) -> None:
        await tests.run(websocket, lambda: _upload(websocket, max_duration_s))

    return router
