"""Hardening: body limit, strict validation, clean refusals, security headers, proxies, rate limit."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from collector.app import add_edge
from config.collector_settings import CollectorSettings
from tests.collector_db import Harness, auth, report_body

BAULON = "0350122T"


def post_raw(harness: Harness, token: str, body: str | bytes) -> tuple[int, dict]:
    resp = harness.client.post("/api/v1/reports", content=body,
                               headers={**auth(token), "content-type": "application/json"})
    return resp.status_code, resp.json()


def test_a_body_over_the_limit_is_413(engine: Engine) -> None:
    h = Harness(engine, CollectorSettings(max_body_bytes=4096))
    token = h.enroll()
    status, body = post_raw(h, token, json.dumps(report_body(room="x" * 5000)))
    assert status == 413
    assert body["detail"] == "request body larger than 4096 bytes"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        for _ in range(10):
            yield b" " * 1000

    resp = h.client.post("/api/v1/reports", content=chunks(),
                         headers={**auth(token), "content-type": "application/json"})
    assert resp.status_code == 413


@pytest.mark.parametrize(("literal", "field"), [("NaN", "download_mbps"), ("Infinity", "download_mbps"),
                                                ("-Infinity", "download_mbps"), ("1e999", "download_mbps"),
                                                ("-5", "download_mbps")])
def test_non_finite_and_negative_rates_are_422_with_the_path(harness: Harness, literal: str,
                                                             field: str) -> None:
    token = harness.enroll()
    text = json.dumps(report_body(down=12.25)).replace("12.25", literal)
    status, body = post_raw(harness, token, text)
    assert status == 422
    assert ["body", "results", 2, "measurement", "bandwidth", field] in [e["loc"] for e in body["detail"]]
    assert "input" not in body["detail"][0]  # the refused value is not echoed back


def test_signal_out_of_range_is_422(harness: Harness) -> None:
    token = harness.enroll()
    body = report_body()
    body["results"] = [{"probe": "wifi", "status": "ok", "duration_s": 1,
                        "measurement": {"kind": "wifi", "tool": "iw", "signal_dbm": 30}}]
    status, answer = post_raw(harness, token, json.dumps(body))
    assert status == 422
    assert answer["detail"][0]["loc"] == ["body", "results", 0, "measurement", "wifi", "signal_dbm"]


@pytest.mark.parametrize("raw", ["[" * 50_000 + "]" * 50_000, '{"a":' * 5000 + "1" + "}" * 5000,
                                 "\xff\xfe", '"x"', "[]", "null", '{"results": "many"}', ""])
def test_hostile_bodies_are_refused_without_a_server_error(harness: Harness, raw: str) -> None:
    token = harness.enroll()
    resp = harness.client.post("/api/v1/reports", content=raw.encode("utf-8", "surrogateescape"),
                               headers={**auth(token), "content-type": "application/json"})
    assert 400 <= resp.status_code < 500, resp.text


def test_unknown_and_malformed_uai_are_refused_clearly(harness: Harness) -> None:
    reader = harness.token("reader")
    unknown = harness.client.get("/api/v1/schools/0350999W", headers=auth(reader))
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "no school 0350999W in this collector"
    bad = harness.client.get("/api/v1/schools/0350999Z", headers=auth(reader))
    assert bad.status_code == 422
    assert "wrong check letter" in bad.json()["detail"]
    agent = harness.enroll()
    status, body = post_raw(harness, agent, json.dumps(report_body(school_uai="0350999Z")))
    assert status == 422
    assert body["detail"][0]["loc"] == ["body", "school_uai"]


def test_rate_limit_per_token(engine: Engine) -> None:
    h = Harness(engine, CollectorSettings(rate_limit_per_minute=6, rate_limit_burst=3))
    fast, other = h.token("reader"), h.token("reader")
    codes = [h.client.get("/api/v1/schools", headers=auth(fast)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = h.client.get("/api/v1/schools", headers=auth(fast))
    assert refused.headers["retry-after"] == "10"
    assert "slow down" in refused.json()["detail"]
    assert h.client.get("/api/v1/schools", headers=auth(other)).status_code == 200


def _echo_app(settings: CollectorSettings) -> FastAPI:
    app = FastAPI()

    @app.get("/page", response_class=HTMLResponse)
    def page() -> str:
        return "<p>hello</p>"

    @app.get("/api/who")
    def who(request: Request) -> dict[str, str]:
        return {"client": request.client.host if request.client else "", "scheme": request.url.scheme}

    add_edge(app, settings)
    return app


def test_security_headers_on_html_and_api() -> None:
    client = TestClient(_echo_app(CollectorSettings()))
    html = client.get("/page")
    assert html.headers["content-security-policy"].startswith("default-src 'self'")
    assert html.headers["x-content-type-options"] == "nosniff"
    assert html.headers["x-frame-options"] == "DENY"
    assert html.headers["referrer-policy"] == "no-referrer"
    assert "strict-transport-security" not in html.headers
    api = client.get("/api/who")
    assert api.headers["cache-control"] == "no-store"
    assert "content-security-policy" not in api.headers
    assert len(api.headers["x-request-id"]) == 16


def test_forwarded_headers_only_from_trusted_proxies() -> None:
    forwarded = {"x-forwarded-for": "203.0.113.9", "x-forwarded-proto": "https"}
    untrusted = TestClient(_echo_app(CollectorSettings()), client=("192.0.2.1", 5000))
    assert untrusted.get("/api/who", headers=forwarded).json() == {"client": "192.0.2.1", "scheme": "http"}
    trusted = TestClient(_echo_app(CollectorSettings(trusted_proxies=["192.0.2.0/24"])),
                         client=("192.0.2.1", 5000))
    resp = trusted.get("/api/who", headers=forwarded)
    assert resp.json() == {"client": "203.0.113.9", "scheme": "https"}
    assert resp.headers["strict-transport-security"] == "max-age=31536000"


def test_healthz_and_metrics(harness: Harness) -> None:
    assert harness.client.get("/healthz").json() == {"status": "ok", "database": "ok", "writes": "ok"}

    def value(text: str, name: str) -> float:
        line = next((ln for ln in text.splitlines() if ln.startswith(name + " ")), None)
        return float(line.split()[-1]) if line else 0.0

    before = harness.client.get("/metrics").text
    token = harness.enroll()
    assert harness.client.post("/api/v1/reports", json=report_body(), headers=auth(token)).status_code == 201
    harness.client.get("/api/v1/schools")  # no token: 401
    after = harness.client.get("/metrics")
    assert after.headers["content-type"].startswith("text/plain")
    stored = 'socle_reports_ingested_total{status="stored"}'
    unauth = 'socle_requests_refused_total{reason="unauthenticated"}'
    assert value(after.text, stored) == value(before, stored) + 1
    assert value(after.text, unauth) == value(before, unauth) + 1
    assert value(after.text, "socle_schools") == 3
    assert value(after.text, "socle_agents") == 1
    assert value(after.text, "socle_agents_silent") == 0
    assert "socle_evaluation_seconds_bucket" in after.text


@pytest.mark.parametrize("path", ["/static/style.css%00", "/static/%00", "/static/a%00.css",
                                  "/dashboard/schools/0350122T%00", "/api/v1/schools/%00", "/%01",
                                  "/static/..%2fapp.py", "/static/nothing.css"])
def test_a_path_that_names_no_file_is_404_never_500(harness: Harness, path: str) -> None:
    reader = harness.token("reader")
    resp = harness.client.get(path, headers=auth(reader))
    assert resp.status_code == 404, (path, resp.status_code, resp.text[:200])
    assert harness.client.get("/static/style.css").status_code == 200
