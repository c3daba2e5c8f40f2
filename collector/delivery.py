"""Agent delivery routes under /api/v1: batch ingest, credential rotation, clone re-enrolment.

The batch endpoint answers item by item: each report is validated on its own, so
one malformed report is refused with its field path while the others are stored
(collector/ingest_http.py); ingest stays idempotent by ``report_id``. A batch
that cannot be read at all (not JSON, no ``reports`` list) is a 422 as a whole.
Database faults are not "refused": the request fails and the agent retries.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response

from collector.deps import CurrentAgent, DbSession, Now, Token
from collector.identity import reenroll_clone, rotate_credential
from collector.ingest_http import ingest_many, validation_message
from config.wire import (
    BatchIngestResponse,
    EnrollResponse,
    ReenrollRequest,
    ReportBatch,
    RotateResponse,
)

__all__ = ["router", "validation_message"]

router = APIRouter(prefix="/api/v1")


@router.post("/reports/batch", response_model=BatchIngestResponse)
async def post_report_batch(body: ReportBatch, request: Request) -> Response:
    """Store several reports; each gets its own answer (stored, duplicate, or refused and why).

    Answered once committed, with other requests' reports (collector/ingest_writer.py).
    """
    return await ingest_many(request, body.reports)


@router.post("/agents/rotate", response_model=RotateResponse)
def post_rotate(agent: CurrentAgent, session: DbSession, at: Now) -> RotateResponse:
    """A new credential for the calling agent; the old one works until the new one is first used."""
    return rotate_credential(session, agent, at)


@router.post("/agents/reenroll", status_code=201, response_model=EnrollResponse)
def post_reenroll(body: ReenrollRequest, token: Token, session: DbSession, at: Now,
                  incarnation: Annotated[str | None, Header(alias="X-Socle-Incarnation",
                                                            max_length=64)] = None) -> EnrollResponse:
    """For a machine told (409) that it holds a cloned identity: an agent ID and credential of its own."""
    return reenroll_clone(session, token, incarnation, body, at)
