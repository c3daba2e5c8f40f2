"""Observability: the process's Prometheus counters, and one structured log line per request.

Counters: reports ingested (stored or duplicate), requests refused by reason
(``unauthenticated``, ``forbidden``, ``not_found``, ``too_large``, ``invalid``,
``rate_limited``, ...), evaluation time (a histogram), reports per ingest
transaction (a histogram: how well the writer groups them). Every room counts
into them; ``/metrics`` (collector/api/health.py) exposes them with gauges read
from the database.

With several worker processes, ``PROMETHEUS_MULTIPROC_DIR`` names an empty
directory (``socle-collector serve --workers N`` makes one) and every process's
counters are summed at scrape time.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("socle.collector.access")

REPORTS = Counter("socle_reports_ingested_total", "Reports received from agents, by outcome", ["status"])
REFUSED = Counter("socle_requests_refused_total", "Requests refused, by reason", ["reason"])
EVALUATION = Histogram("socle_evaluation_seconds", "Time to judge schools for one request", ["what"],
                       buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
INGEST_GROUP = Histogram("socle_ingest_group_reports", "Reports per ingest transaction",
                         buckets=(1, 2, 5, 10, 20, 50, 100, 200))

REASONS = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
           405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media",
           422: "invalid", 429: "rate_limited"}


def exposition(*extra: Collector) -> tuple[bytes, str]:
    """The counters (every process's, when several serve) and ``extra`` collectors in Prometheus text
    format, with its content type."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        for counter in (REPORTS, REFUSED, EVALUATION, INGEST_GROUP, PLACED):
            registry.register(counter)
    for collector in extra:
        registry.register(collector)
    return generate_latest(registry), CONTENT_TYPE_LATEST


PLACED = Counter("socle_reports_placed_total", "Reports whose times were moved: the agent's clock was off")


def count_placed() -> None:
    """Count one report placed in time by the collector (collector/ingest/clock.py)."""
    PLACED.inc()


def count_report(status: str) -> None:
    """Count one report received (``stored`` or ``duplicate``)."""
    REPORTS.labels(status).inc()


# Request ids: a random prefix per process and a counter (no system call per request).
_ID_PREFIX = os.urandom(4).hex()
_ID_COUNT = itertools.count(1)


class AccessLog:
    """ASGI middleware: counts refusals by reason and logs one line per request with its id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        request_id = f"{_ID_PREFIX}{next(_ID_COUNT):08x}"
        status = 500

        async def watched(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, watched)
        finally:
            if 400 <= status < 500:
                REFUSED.labels(REASONS.get(status, str(status))).inc()
            client = scope.get("client")
            extra: dict[str, Any] = {
                "request_id": request_id, "method": scope.get("method"), "path": scope.get("path"),
                "status": status, "duration_ms": round(1000 * (time.perf_counter() - start), 2),
                "client": client[0] if client else None}
            level = logging.WARNING if status >= 500 else logging.INFO
            log.log(level, "%s %s %s", scope.get("method"), scope.get("path"), status, extra=extra)
