"""The browser speed test: a page that runs ndt7 in the browser and files the result.

For tablets and Chromebooks that cannot run the agent. A technician makes a
short-lived code on the school page (an enrolment code valid two hours); the
page checks it, runs the ndt7 download and upload against this collector's
``/ndt/v7`` endpoints, then posts the figures with the code. The collector
spends the code as a one-shot enrolment of the browser, files the figures as
an ordinary report with a ``bandwidth`` measurement (so readiness reads them
like any other) and revokes that one-shot credential at once.

A browser on Wi-Fi (or on an unknown link) measures its own radio link as much
as the school's line: such a result is marked ``limited_by="browser_wifi"`` and
cannot by itself fail the school's internet rules; a wired result counts fully.
"""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from collector.api.deps import DbSession, Now
from collector.auth.credentials import CODE_REFUSALS, enroll, live_enroll_code
from collector.db.models import AgentRow, School
from collector.ingest.single import ingest
from config.wire import (
    BandwidthMeasurement,
    DeviceIdentity,
    EnrollRequest,
    ProbeResult,
    ProbeStatus,
    Report,
)

from .i18n import translator
from .render import language, render

AGENT_VERSION = "browser-ndt7/1"
HOSTNAME = "browser"

router = APIRouter(include_in_schema=False)


class CodeCheck(BaseModel):
    """A code typed on the tablet."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=4, max_length=64)


class CodeInfo(BaseModel):
    """The school a valid code files results under."""

    school_uai: str
    school_name: str
    commune: str


class BrowserResult(BaseModel):
    """What the browser measured (figures counted as the ndt7 spec says: by the receiver)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    code: str = Field(min_length=4, max_length=64)
    room: str = Field(min_length=1, max_length=200)
    connection: Literal["wifi", "wired", "unknown"] = "unknown"
    download_mbps: float | None = Field(default=None, ge=0, le=100_000)
    upload_mbps: float | None = Field(default=None, ge=0, le=100_000)
    download_s: float | None = Field(default=None, ge=0, le=60)
    upload_s: float | None = Field(default=None, ge=0, le=60)
    min_rtt_ms: float | None = Field(default=None, ge=0, le=60_000)
    upload_source: Literal["server_tcp_info", "server_app_info", "client"] | None = None
    bytes_used: int = Field(default=0, ge=0)
    user_agent: str | None = Field(default=None, max_length=300)


class FiledResult(BaseModel):
    """Where the result was filed."""

    report_id: uuid.UUID
    school_uai: str
    school_name: str
    room: str


@router.get("/speedtest", response_class=HTMLResponse)
def speedtest_page(request: Request, seconds: float = 10.0) -> Response:
    """The test page; ``seconds`` caps each direction (ndt7's own cap is 10 s)."""
    t = translator(language(request))
    refusals = {detail: t(f"speed.code_{why}") for why, detail in CODE_REFUSALS.items()}
    return render(request, "speedtest.html", seconds=min(max(seconds, 1.0), 10.0), refusals=refusals)


@router.post("/speedtest/api/check", response_model=CodeInfo)
def check_code(body: CodeCheck, session: DbSession, at: Now) -> CodeInfo:
    """Which school a code belongs to, without spending it."""
    row = live_enroll_code(session, body.code, at)
    school = session.get(School, row.school_uai)
    assert school is not None  # a foreign key
    return CodeInfo(school_uai=school.uai, school_name=school.name, commune=school.commune)


@router.post("/speedtest/api/result", status_code=201, response_model=FiledResult)
def file_result(body: BrowserResult, session: DbSession, at: Now) -> FiledResult:
    """Spend the code and file the figures as a report of the school and room."""
    device = DeviceIdentity(instance_id=uuid.uuid4(), hostname=HOSTNAME,
                            hardware_hint=(body.user_agent or None) and body.user_agent[:200])
    enrolled = enroll(session, EnrollRequest(code=body.code, room=body.room, device=device,
                                             agent_version=AGENT_VERSION), at)
    session.flush()
    agent = session.get(AgentRow, str(enrolled.agent_id))
    assert agent is not None
    missing = {}
    if body.download_mbps is None:
        missing["download_mbps"] = "the browser's download test did not finish"
    if body.upload_mbps is None:
        missing["upload_mbps"] = "the browser's upload test did not finish"
    wireless = {"wifi": True, "wired": False}.get(body.connection)
    m = BandwidthMeasurement(
        server="collector (browser ndt7)", download_mbps=body.download_mbps, upload_mbps=body.upload_mbps,
        download_s=body.download_s, upload_s=body.upload_s, upload_source=body.upload_source,
        idle_latency_min_ms=body.min_rtt_ms, bytes_used=body.bytes_used, wireless=wireless,
        client_limited=body.connection != "wired",
        limited_by=None if body.connection == "wired" else "browser_wifi", missing=missing)
    measured = body.download_mbps is not None or body.upload_mbps is not None
    report = Report(report_id=uuid.uuid4(), agent_version=AGENT_VERSION, device=device,
                    school_uai=enrolled.school_uai, room=body.room, taken_at=at,
                    results=[ProbeResult(probe="bandwidth",
                                         status=ProbeStatus.ok if measured else ProbeStatus.error,
                                         reason=None if measured else "nothing measured in the browser",
                                         duration_s=(body.download_s or 0) + (body.upload_s or 0),
                                         measurement=m)])
    ingest(session, agent, report, at)
    agent.revoked_at = at  # a one-shot credential: nothing may post with it again
    return FiledResult(report_id=report.report_id, school_uai=enrolled.school_uai,
                       school_name=enrolled.school_name, room=body.room)
