"""Observability: ``/metrics`` in Prometheus text format, and one structured log line per request.

Counters: reports ingested (stored or duplicate), requests refused by reason
(``unauthenticated``, ``forbidden``, ``not_found``, ``too_large``, ``invalid``,
``rate_limited``, ...), evaluation time (a histogram), reports per ingest
transaction (a histogram: how well the writer groups them). Gauges read from the
database at scrape time: schools, agents, and silent agents (not heard from in
the profile's ``silent_after_days``).

With several worker processes, set ``PROMETHEUS_MULTIPROC_DIR`` to an empty
directory (``socle-collector serve --workers N`` does it) and every process's
counters are summed at scrape time.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, or_, select

from collector.hardening import ASGIApp, Message, Receive, Scope, Send
from collector.models import AgentRow, School

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


def count_report(status: str) -> None:
    """Count one report received (``stored`` or ``duplicate``)."""
    REPORTS.labels(status).inc()


class DatabaseGauges(Collector):
    """Gauges computed from the database when Prometheus scrapes."""

    def __init__(self, request: Request) -> None:
        self.state = request.app.state.socle

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Schools, agents and silent agents."""
        state = self.state
        silent_days = state.profile.profile.silent_after_days
        since = state.clock() - timedelta(days=silent_days)
        with state.sessions() as session:
            schools = session.scalar(select(func.count()).select_from(School)) or 0
            live = AgentRow.revoked_at.is_(None)
            agents = session.scalar(select(func.count()).select_from(AgentRow).where(live)) or 0
            silent = session.scalar(select(func.count()).select_from(AgentRow).where(
                live, or_(AgentRow.last_seen_at.is_(None), AgentRow.last_seen_at < since))) or 0
        yield GaugeMetricFamily("socle_schools", "Schools known to the collector", value=schools)
        yield GaugeMetricFamily("socle_agents", "Enrolled agents not revoked", value=agents)
        yield GaugeMetricFamily("socle_agents_silent",
                                f"Agents not heard from in {silent_days} days", value=silent)


router = APIRouter()


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus text exposition of the counters and database gauges."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        for collector in (REPORTS, REFUSED, EVALUATION, INGEST_GROUP):
            registry.register(collector)
    registry.register(DatabaseGauges(request))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/livez", include_in_schema=False)
async def livez() -> dict[str, str]:
    """The process answers (no database work): liveness, and the empty endpoint of bench/ingest."""
    return {"status": "ok"}


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


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's extra fields."""

    _PLAIN = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        out: dict[str, Any] = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
                               "level": record.levelname.lower(), "logger": record.name,
                               "message": record.getMessage()}
        out.update({k: v for k, v in vars(record).items() if k not in self._PLAIN})
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def setup_logging(fmt: str, verbose: bool) -> None:
    """Configure the root logger: plain text or JSON lines."""
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    # The per-request line is INFO: shown with -v, or always in JSON mode (it is the access log).
    logging.getLogger("socle.collector.access").setLevel(logging.INFO if verbose or fmt == "json"
                                                         else logging.WARNING)
