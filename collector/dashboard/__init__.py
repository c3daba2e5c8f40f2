"""The IT lead's dashboard: server-rendered pages over the collector's data.

``build_router()`` gives every route (sign-in, overview, school page, exports,
browser speed test, static files); the app factory includes it.
"""

from __future__ import annotations

from fastapi import APIRouter


def build_router() -> APIRouter:
    """All the dashboard's routes."""
    from . import alerts, auth, equipment, exports, speedtest, views

    router = APIRouter()
    for sub in (auth.router, views.router, exports.router, equipment.router, speedtest.router,
                alerts.router):
        router.include_router(sub)
    return router
