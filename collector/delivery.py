"""Agent delivery routes under /api/v1: batch ingest, credential rotation, clone re-enrolment.

The batch endpoint answers item by item: each report is validated and stored on
its own (in a savepoint), so one malformed report is refused with its field path
while the others are stored; ingest stays idempotent by ``report_id``. A batch
that cannot be read at all (not JSON, no ``reports`` list) is a 422 as a whole.
Database faults are not "refused": the request fails and the agent retries.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header
from pydantic import ValidationError
from sqlalchemy.orm import Session

from collector.deps import CurrentAgent, DbSession, Now, Token
from collector.identity import reenroll_clone, rotate_credential
from collector.models import AgentRow
from collector.store import StoreError, ingest
from config.wire import (
    BatchIngestResponse,
    BatchItemResult,
    EnrollResponse,
    ReenrollRequest,
    Report,
    ReportBatch,
    RotateResponse,
)

router = APIRouter(prefix="/api/v1")


def _raw_id(raw: dict[str, Any]) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(raw.get("report_id")))
    except ValueError:
        return None


def validation_message(exc: ValidationError, limit: int = 5) -> str:
    """A validation error as ``field.path: reason`` lines, joined by '; '."""
    parts = [f"{'.'.join(str(p) for p in err['loc']) or '(report)'}: {err['msg']}"
             for err in exc.errors()[:limit]]
    more = exc.error_count() - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def ingest_batch(session: Session, agent: AgentRow, items: list[dict[str, Any]],
                 now: Any) -> list[BatchItemResult]:
    """Validate and store each item on its own; the answer keeps the items' order."""
    out: list[BatchItemResult] = []
    for index, raw in enumerate(items):
        try:
            report = Report.model_validate(raw)
        except ValidationError as exc:
            out.append(BatchItemResult(index=index, report_id=_raw_id(raw), status="refused",
                                       error=validation_message(exc)))
            continue
        try:
            with session.begin_nested():
                status = ingest(session, agent, report, now)
        except StoreError as exc:
            if exc.status >= 500:
                raise
            out.append(BatchItemResult(index=index, report_id=report.report_id, status="refused",
                                       error=exc.message))
            continue
        out.append(BatchItemResult(index=index, report_id=report.report_id,
                                   status="stored" if status == "stored" else "duplicate"))
    return out


@router.post("/reports/batch", response_model=BatchIngestResponse)
def post_report_batch(body: ReportBatch, agent: CurrentAgent, session: DbSession,
                      at: Now) -> BatchIngestResponse:
    """Store several reports; each gets its own answer (stored, duplicate, or refused and why)."""
    return BatchIngestResponse(results=ingest_batch(session, agent, body.reports, at))


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
