"""Talking to the collector over HTTP(S) with requests."""

from __future__ import annotations

import logging
from typing import Any

import requests

from config.profile import Profile
from config.wire import (
    INCARNATION_HEADER,
    AgentSchool,
    BatchIngestResponse,
    EnrollRequest,
    EnrollResponse,
    IngestResponse,
    ProfilePublic,
    ReenrollRequest,
    Report,
    RotateResponse,
)

log = logging.getLogger("socle.agent.client")


class CollectorError(Exception):
    """The collector could not be reached, or refused; the message says which, never the token."""

    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None,
                 detail: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        self.detail = detail or message  # what the collector said, without the status line

    @property
    def unreachable(self) -> bool:
        """No HTTP answer at all (or the collector said it is unavailable)."""
        return self.status is None or self.status in (502, 503, 504)

    @property
    def retryable(self) -> bool:
        """Worth trying again later: no answer, a timeout, overload or a server fault."""
        return self.status is None or self.status in (408, 425, 429) or self.status >= 500

    @property
    def cloned(self) -> bool:
        """The collector saw this credential on two machines at once: this one must re-enrol."""
        return self.status == 409


def _detail(resp: requests.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:200].strip() or resp.reason
    detail = body.get("detail") if isinstance(body, dict) else body
    if isinstance(detail, list):  # FastAPI validation errors: field path and reason
        return "; ".join(f"{'.'.join(str(p) for p in d.get('loc', []))}: {d.get('msg')}" for d in detail[:5])
    return str(detail)[:300]


def _retry_after(resp: requests.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


class CollectorClient:
    """The collector's API, as the agent uses it."""

    def __init__(self, base_url: str, session: requests.Session | None = None, timeout_s: float = 10.0,
                 token: str | None = None, verify: bool | str = True, incarnation: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.incarnation = incarnation
        self.http = session or requests.Session()
        self.http.verify = verify
        self.timeout_s = timeout_s
        self.token = token

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.incarnation:
            headers[INCARNATION_HEADER] = self.incarnation
        url = self.base_url + path
        try:
            resp = self.http.request(method, url, headers=headers, timeout=self.timeout_s, **kwargs)
        except requests.RequestException as exc:
            raise CollectorError(f"cannot reach the collector at {self.base_url}: "
                                 f"{type(exc).__name__}") from None
        if resp.status_code >= 400:
            said = _detail(resp)
            raise CollectorError(f"collector answered {resp.status_code} to {method} {path}: {said}",
                                 status=resp.status_code, retry_after=_retry_after(resp), detail=said)
        return resp

    def enroll(self, req: EnrollRequest) -> EnrollResponse:
        """Trade a one-time code for a credential."""
        resp = self._call("POST", "/api/v1/enroll", json=req.model_dump(mode="json"))
        return EnrollResponse.model_validate(resp.json())

    def send_report(self, report: Report) -> IngestResponse:
        """Deliver one report (idempotent by its id)."""
        resp = self._call("POST", "/api/v1/reports", data=report.model_dump_json(),
                          headers={"Content-Type": "application/json"})
        return IngestResponse.model_validate(resp.json())

    def send_batch(self, bodies: list[str]) -> BatchIngestResponse:
        """Deliver several reports (each already JSON); the answer says, item by item, what became of it."""
        data = '{"reports":[' + ",".join(bodies) + "]}"
        resp = self._call("POST", "/api/v1/reports/batch", data=data.encode(),
                          headers={"Content-Type": "application/json"})
        return BatchIngestResponse.model_validate(resp.json())

    def rotate(self) -> RotateResponse:
        """Trade this credential for a new one."""
        return RotateResponse.model_validate(self._call("POST", "/api/v1/agents/rotate").json())

    def reenroll(self, req: ReenrollRequest) -> EnrollResponse:
        """As a machine told it holds a cloned identity: obtain an identity of its own."""
        resp = self._call("POST", "/api/v1/agents/reenroll", json=req.model_dump(mode="json"))
        return EnrollResponse.model_validate(resp.json())

    def school(self) -> AgentSchool:
        """This agent's school and the facts its rules scale with (pupils, staff)."""
        return AgentSchool.model_validate(self._call("GET", "/api/v1/agents/school").json())

    def profile(self) -> Profile:
        """The requirement profile the collector judges with."""
        resp = self._call("GET", "/api/v1/profile")
        return ProfilePublic.model_validate(resp.json()).profile
