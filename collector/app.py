"""The collector's app factory: nothing is built at import time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text

from collector import api, coverage, dashboard, delivery, hardening, ingest_writer, ndt7, sweep
from collector.db import create_schema, make_engine, session_factory
from collector.deps import AppState
from collector.ingest_writer import IngestWriter
from collector.paths import database_url
from collector.store import StoreError
from config.collector_settings import CollectorSettings
from config.profile import Profile, load_profile
from config.wire import utcnow

log = logging.getLogger("socle.collector")


def create_app(settings: CollectorSettings | None = None, *, engine: Engine | None = None,
               profile: Profile | None = None,
               clock: Callable[[], datetime] = utcnow) -> FastAPI:
    """Build the collector app: engine, schema, profile, routes."""
    settings = settings or CollectorSettings()
    engine = engine or make_engine(database_url(settings))
    create_schema(engine)
    profile = profile or load_profile(settings.profile_path)
    app = FastAPI(title="Socle collector", version="0.1.0",
                  description="Receives agents' reports and judges schools against a requirement profile.")
    app.state.socle = AppState(settings=settings, sessions=session_factory(engine), profile=profile,
                               clock=clock, writer=IngestWriter(engine))

    @app.exception_handler(StoreError)
    def _store_error(_request: Request, exc: StoreError) -> JSONResponse:
        return JSONResponse({"detail": exc.message}, status_code=exc.status)

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        """Whether the database answers."""
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
            log.warning("health check: database unreachable: %s", type(exc).__name__)
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    app.include_router(api.router)
    app.include_router(coverage.router)  # per-room Wi-Fi coverage and its picture
    app.include_router(delivery.router)
    app.include_router(ndt7.build_router())
    app.include_router(dashboard.build_router())
    hardening.install(app, settings)  # body limit, headers, rate limit, proxies, /metrics
    sweep.install(app, engine)  # judge out of date stored verdicts in the background while served
    ingest_writer.install(app)  # finish the queued reports at shutdown
    return app
