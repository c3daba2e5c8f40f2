"""Health and metrics: ``/healthz`` (the database answers), ``/livez`` (the process answers), ``/metrics``."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, or_, select, text

from collector.api.deps import AppState, State
from collector.db.models import AgentRow, HealthWrite, School
from collector.edge.metrics import exposition

log = logging.getLogger("socle.collector")

router = APIRouter()


class DatabaseGauges(Collector):
    """Gauges computed from the database when Prometheus scrapes."""

    def __init__(self, state: AppState) -> None:
        self.state = state

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


@router.get("/healthz")
def healthz(state: State) -> JSONResponse:
    """Whether the database answers, and takes writes (a full disk answers reads and refuses writes)."""
    try:
        with state.sessions() as session:
            session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
        log.warning("health check: database unreachable: %s", type(exc).__name__)
        return JSONResponse({"status": "error", "database": "unreachable", "writes": "unknown"},
                            status_code=503)
    try:
        with state.sessions() as session:
            row = session.get(HealthWrite, 1)
            if row is None:
                session.add(HealthWrite(id=1, checked_at=state.clock()))
            else:
                row.checked_at = state.clock()
            session.commit()
    except Exception as exc:  # noqa: BLE001 - a refused write, whatever the database says
        log.warning("health check: the database refuses writes: %s", str(exc).splitlines()[0][:200])
        return JSONResponse({"status": "error", "database": "ok", "writes": "failing"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok", "writes": "ok"})


@router.get("/metrics", include_in_schema=False)
def metrics(state: State) -> Response:
    """Prometheus text exposition of the counters and database gauges."""
    body, kind = exposition(DatabaseGauges(state))
    return Response(body, media_type=kind)


@router.get("/livez", include_in_schema=False)
async def livez() -> dict[str, str]:
    """The process answers (no database work): liveness, and the empty endpoint of bench/ingest."""
    return {"status": "ok"}
