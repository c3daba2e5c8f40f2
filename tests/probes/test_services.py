"""Services and filtering pieces on loopback: a real HTTP server, and verdicts from results."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator

import pytest

from config.agent_settings import AgentSettings
from config.wire import ProbeStatus
from probes import filtering, services
from probes.base import ProbeContext
from probes.webcheck import WebResult, fetch, is_sinkhole


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = 503 if self.path == "/down" else 200
        body = b"success\n"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


def test_fetch_times_each_step(server: str) -> None:
    r = fetch(server + "/ok", dns_server=None, ca_file=None, timeout=2, monotonic=time.perf_counter)
    assert (r.http_status, r.body, r.failed_step, r.address) == (200, "success\n", None, "127.0.0.1")
    assert r.dns_ms is None  # an address needs no resolving
    assert r.tcp_ms is not None and r.total_ms is not None and r.total_ms >= r.tcp_ms


def test_services_probe_on_loopback(server: str) -> None:
    settings = AgentSettings.model_validate({"probes": {"services": {
        "services": [{"name": "ENT", "url": server + "/"}, {"name": "Down", "url": server + "/down"}],
        "captive_url": server + "/success.txt"}}})
    out = services.run(ProbeContext(settings=settings))
    m = out.measurement
    assert out.status is ProbeStatus.ok
    assert (m.services_total, m.services_reachable, m.all_reachable, m.captive_portal) == (2, 1, False, False)
    down = m.services[1]
    assert (down.http_status, down.reachable, down.failed_step, down.error) == (
        503, False, "http", "http: status 503")
    assert out.reason == "Down: http: status 503"


def test_ent_url_is_added() -> None:
    settings = AgentSettings.model_validate({"probes": {"services": {
        "services": [], "ent_url": "https://ent.example.org/"}}})
    assert [(t.name, t.url) for t in services.targets(ProbeContext(settings=settings))] == [
        ("ENT", "https://ent.example.org/")]


def test_no_service_configured_is_unavailable() -> None:
    settings = AgentSettings.model_validate({"probes": {"services": {"services": []}}})
    out = services.run(ProbeContext(settings=settings))
    assert (out.status, out.reason) == (ProbeStatus.unavailable, "no service configured to check")


def test_refused_service(server: str) -> None:
    r = fetch("http://127.0.0.1:9/", dns_server=None, ca_file=None, timeout=1, monotonic=time.perf_counter)
    check = services.to_check("X", r)
    assert (check.reachable, check.failed_step, check.error) == (False, "tcp", "tcp: Connection refused")


def test_captive_portal_verdicts() -> None:
    ok = WebResult(url="u", http_status=200, body="success\n")
    portal = WebResult(url="u", http_status=302, location="http://portal/login")
    login = WebResult(url="u", http_status=200, body="<html>Connexion Wi-Fi</html>")
    silent = WebResult(url="u", failed_step="tcp", error="tcp: no answer within 5 s", timed_out=True)
    assert services.captive_portal(ok, "success") == (False, None)
    assert services.captive_portal(portal, "success") == (True, None)
    assert services.captive_portal(login, "success") == (True, None)
    assert services.captive_portal(silent, "success") == (
        None, "captive-portal check got no answer: tcp: no answer within 5 s")


@pytest.mark.parametrize(("result", "expected"), [
    (WebResult(url="u", failed_step="dns", error="dns: NXDOMAIN (no such name)"),
     ("blocked", "dns: NXDOMAIN (no such name)")),
    (WebResult(url="u", failed_step="tcp", error="tcp: Connection refused"),
     ("blocked", "tcp: Connection refused")),
    (WebResult(url="u", failed_step="tcp", error="tcp: no answer within 5 s", timed_out=True),
     ("error", "tcp: no answer within 5 s")),
    (WebResult(url="u", http_status=451), ("blocked", "http 451")),
    (WebResult(url="u", http_status=200, body="Site bloqué par le proxy"),
     ("blocked", "http 200: block page ('bloqué')")),
    (WebResult(url="u", http_status=200, body="hello"), ("allowed", "http 200")),
])
def test_filter_verdicts(result: WebResult, expected: tuple[str, str]) -> None:
    assert filtering.verdict(result, ["bloqué"]) == expected


def test_filtering_needs_urls() -> None:
    out = filtering.run(ProbeContext())
    assert (out.status, out.reason) == (ProbeStatus.unavailable,
                                        "no URL configured that the filter must block")


def test_sinkholes() -> None:
    assert [is_sinkhole(a) for a in ("0.0.0.0", "::", "127.0.0.2", "10.0.0.1", "2001:db8::1")] == [
        True, True, True, False, False]
