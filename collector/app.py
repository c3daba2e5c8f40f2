"""The collector's app factory, the one place the app is assembled; nothing is built at import time.

The rooms it puts together (docs/architecture.md draws them):

* ``api/`` — the routes under /api/v1, the ndt7 endpoints, health and metrics;
* ``dashboard/`` — the IT lead's pages and exports;
* ``edge/`` — the middlewares every request meets first, and the error answers;
* ``ingest/`` — the writer that commits the reports (its thread, or the event loop);
* ``judge/`` — the sweeper that keeps stored verdicts fresh while the app is served;
* ``db/`` — the engine and the migrations, run before the app takes a request.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy import Engine

from collector import dashboard
from collector.alerts.run import alert_turn
from collector.api import agents, coverage, health, ndt7, reports, schools
from collector.api.deps import AppState
from collector.db.engine import create_schema, make_engine, session_factory
from collector.db.paths import database_url
from collector.edge.errors import on_invalid_request, on_store_error, on_too_deep
from collector.edge.headers import SecurityHeaders
from collector.edge.limits import MAX_CONCURRENT_API, BodyLimit, CleanPath, ConcurrencyLimit
from collector.edge.metrics import AccessLog
from collector.edge.ratelimit import FailureLimit, RateLimit
from collector.errors import StoreError
from collector.ingest.writer import IngestWriter
from collector.judge.sweep import start_sweeper
from collector.retention.nightly import start_purger
from config.collector_settings import CollectorSettings
from config.profile import Profile, load_profile
from config.wire import utcnow


def create_app(settings: CollectorSettings | None = None, *, engine: Engine | None = None,
               profile: Profile | None = None,
               clock: Callable[[], datetime] = utcnow) -> FastAPI:
    """Build the collector app: engine, schema, profile, writer, routes, middlewares, lifespan."""
    settings = settings or CollectorSettings()
    engine = engine or make_engine(database_url(settings))
    create_schema(engine)
    profile = profile or load_profile(settings.profile_path)
    writer = IngestWriter(engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        """While served: the sweeper judges out of date verdicts and the purger applies the retention
        nightly; at the end, the writer commits what is queued. (Tests that do not serve the app run
        neither.)"""
        stop_sweeping = start_sweeper(engine, profile, clock,
                                      then=[lambda: alert_turn(engine, settings.alerts, clock)])
        stop_purging = (start_purger(engine, settings.retention, profile, clock)
                        if settings.retention.nightly else None)
        try:
            yield
        finally:
            if stop_purging is not None:
                await asyncio.to_thread(stop_purging)
            await asyncio.to_thread(stop_sweeping)
            await asyncio.to_thread(writer.stop)

    app = FastAPI(title="Socle collector", version="0.1.0", lifespan=lifespan,
                  description="Receives agents' reports and judges schools against a requirement profile.")
    app.state.socle = AppState(settings=settings, sessions=session_factory(engine), profile=profile,
                               clock=clock, writer=writer)
    app.add_exception_handler(StoreError, on_store_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, on_invalid_request)  # type: ignore[arg-type]
    app.add_exception_handler(RecursionError, on_too_deep)  # type: ignore[arg-type]

    app.include_router(reports.router)  # first: the routes most requests are for
    for router in (agents.router, schools.router, coverage.router, health.router,
                   ndt7.build_router(max_concurrent=settings.ndt7_max_concurrent,
                                     admits=ndt7.admission(app.state.socle)),
                   dashboard.build_router()):
        app.include_router(router)

    add_edge(app, settings, unlimited=frozenset(reports.PATHS))
    return app


def add_edge(app: FastAPI, settings: CollectorSettings, unlimited: frozenset[str] = frozenset()) -> None:
    """The middlewares every request meets before a route (``unlimited``: API paths admission control
    lets through), outermost first: the proxy trust, the access log, the security headers, the limit
    on refused credentials, the rate limit, a path with control characters refused, the body limit,
    admission control."""
    # add_middleware puts each new one outside the ones added before.
    app.add_middleware(ConcurrencyLimit, limit=MAX_CONCURRENT_API, unlimited=unlimited)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(CleanPath)
    if settings.rate_limit_per_minute > 0:
        app.add_middleware(RateLimit, per_minute=settings.rate_limit_per_minute,
                           burst=settings.rate_limit_burst)
    if settings.auth_failures_per_minute > 0:
        app.add_middleware(FailureLimit, per_minute=settings.auth_failures_per_minute,
                           burst=settings.auth_failures_burst)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(AccessLog)
    if settings.trusted_proxies:
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))


def create_ndt7_app(max_duration_s: float = 10.0) -> FastAPI:
    """An app serving only ndt7 (``uvicorn collector.app:create_ndt7_app --factory``): tests and benches
    measure a link with it, far from any database."""
    app = FastAPI(title="Socle ndt7 server")
    app.include_router(ndt7.build_router(max_duration_s))
    return app
