"""Rate limits: a token bucket for each bearer token (and each address enrolling), and one for each
address whose credentials fail.

The buckets live in the process: no state is shared across processes or kept
across restarts, so with ``--workers N`` behind a load balancer a credential may
get up to N times the rate. That is the intent of this limit — stopping a runaway
or abusive client, not metering — and it keeps every request free of a database
write. The bucket key is a hash of the token, never the token itself.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from collector.edge.limits import send_json

MAX_BUCKETS = 200_000


class TokenBuckets:
    """Token buckets keyed by string: ``rate`` per second, up to ``burst`` at once."""

    def __init__(self, rate_per_s: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate_per_s
        self.burst = float(burst)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Take one token for ``key``: 0 when allowed, else the seconds to wait."""
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                self._prune(now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate if self.rate > 0 else math.inf

    def wait(self, key: str) -> float:
        """The seconds until ``key`` has a token, without taking one (0: it has one now)."""
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        if tokens >= 1:
            return 0.0
        return (1 - tokens) / self.rate if self.rate > 0 else math.inf

    def _prune(self, now: float) -> None:
        if len(self._buckets) <= MAX_BUCKETS:
            return
        full_after = self.burst / self.rate if self.rate > 0 else math.inf
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full_after}


def _key(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.partition(b" ")
            if scheme.lower() == b"bearer" and token.strip():
                return "t:" + hashlib.sha256(token.strip()).hexdigest()
    if scope.get("path") == "/api/v1/enroll":
        client = scope.get("client")
        return f"ip:{client[0]}" if client else None
    return None


class RateLimit:
    """ASGI middleware: a 429 with ``Retry-After`` when a credential goes over its rate."""

    def __init__(self, app: ASGIApp, per_minute: float, burst: int) -> None:
        self.app = app
        self.buckets = TokenBuckets(per_minute / 60.0, burst)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _key(scope) if scope["type"] == "http" else None
        if key is not None:
            wait = self.buckets.take(key)
            if wait > 0:
                retry = str(max(1, math.ceil(wait))).encode()
                await send_json(send, 429, "too many requests with this credential: slow down",
                                [(b"retry-after", retry)])
                return
        await self.app(scope, receive, send)


_GUARDED = {("POST", "/login"), ("POST", "/api/v1/enroll")}  # where a secret is tried without a bearer token


def _tries_a_secret(scope: Scope) -> bool:
    if (scope.get("method"), scope.get("path")) in _GUARDED:
        return True
    return any(name == b"authorization" for name, _ in scope.get("headers", []))


class FailureLimit:
    """ASGI middleware: an address whose secrets keep being refused (a sign-in, an enrolment code or a
    bearer token answered 401) waits before trying again: 429 with ``Retry-After``. Each refusal takes
    a token from the address's bucket; guessing tokens costs time, a good secret costs nothing."""

    def __init__(self, app: ASGIApp, per_minute: float, burst: int) -> None:
        self.app = app
        self.buckets = TokenBuckets(per_minute / 60.0, burst)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client") if scope["type"] == "http" else None
        if client is None or not _tries_a_secret(scope):
            await self.app(scope, receive, send)
            return
        key = f"ip:{client[0]}"
        wait = self.buckets.wait(key)
        if wait > 0:
            await send_json(send, 429, "too many refused credentials from this address: wait and try again",
                            [(b"retry-after", str(max(1, math.ceil(wait))).encode())])
            return

        async def watched(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                self.buckets.take(key)
            await send(message)

        await self.app(scope, receive, watched)
