"""The collector's API in process: enrolment, credentials, idempotent ingest, readiness."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from collector.api.reports import lone_item
from collector.app import create_app
from collector.auth.credentials import create_api_token, create_enroll_code
from collector.db.engine import make_engine, session_factory
from collector.db.models import ReportRow, SampleSetRow
from collector.db.sample_sets import school_samples
from collector.schools.records import upsert_school
from config.collector_settings import CollectorSettings
from config.wire import SchoolPublic
from tests.support_disk import fill, small_disk
from tests.support_disk import unavailable as small_disk_unavailable

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


class Api:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.app = create_app(CollectorSettings(), engine=self.engine, clock=lambda: NOW)
        self.client = TestClient(self.app)
        self.sessions = session_factory(self.engine)
        with self.sessions() as s:
            upsert_school(s, SchoolPublic(uai="0350122T", name="Les Lucioles", commune="Baulon",
                                          pupils=143), NOW)
            upsert_school(s, SchoolPublic(uai="0350127Y", name="Autre école", commune="Bruz"), NOW)
            self.reader = create_api_token(s, "reader", NOW)
            s.commit()

    def code(self, uai: str = "0350122T", ttl: timedelta = timedelta(hours=1)) -> str:
        with self.sessions() as s:
            code = create_enroll_code(s, uai, NOW, ttl)
            s.commit()
        return code

    def enroll(self, uai: str = "0350122T") -> str:
        resp = self.client.post("/api/v1/enroll", json={
            "code": self.code(uai), "room": "CM1", "agent_version": "0.1.0",
            "device": {"instance_id": str(uuid.uuid4()), "hostname": "pc-cm1"}})
        assert resp.status_code == 201, resp.text
        return str(resp.json()["token"])

    def count(self, model: type) -> int:
        with self.sessions() as s:
            return int(s.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def api(engine: Engine) -> Iterator[Api]:
    """The collector app in process, on SQLite and on PostgreSQL."""
    yield Api(engine)


def report(uai: str = "0350122T", down: float = 20.0, **kw: object) -> dict[str, object]:
    body: dict[str, object] = {
        "report_id": str(uuid.uuid4()), "agent_version": "0.1.0",
        "device": {"instance_id": str(uuid.uuid4()), "hostname": "pc-cm1"},
        "school_uai": uai, "room": "CM1", "taken_at": (NOW - timedelta(hours=7)).isoformat(),
        "results": [
            {"probe": "device", "status": "ok", "duration_s": 0.1,
             "measurement": {"kind": "device", "ram_total_gb": 8.2, "cpu_cores_logical": 4}},
            {"probe": "latency", "status": "ok", "duration_s": 0.5,
             "measurement": {"kind": "latency", "target": "http://c/healthz", "samples_sent": 10,
                             "samples_ok": 10, "rtt_median_ms": 180.0, "jitter_ms": 3, "loss_pct": 0}},
        ],
    }
    body.update(kw)
    return body


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_enrolment_code_is_single_use_and_expires(api: Api) -> None:
    code = api.code()
    body = {"code": code.lower(), "room": "CM1", "agent_version": "0.1.0",
            "device": {"instance_id": str(uuid.uuid4()), "hostname": "pc"}}
    first = api.client.post("/api/v1/enroll", json=body)
    assert first.status_code == 201
    assert first.json()["school_uai"] == "0350122T"
    again = api.client.post("/api/v1/enroll", json=body)
    assert again.status_code == 401 and "already used" in again.json()["detail"]
    expired = {**body, "code": api.code(ttl=timedelta(seconds=-1))}
    resp = api.client.post("/api/v1/enroll", json=expired)
    assert resp.status_code == 401 and "expired" in resp.json()["detail"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer sa_wrong"}, {"Authorization": "Basic x"}])
def test_reports_without_a_valid_credential_get_401(api: Api, headers: dict[str, str]) -> None:
    resp = api.client.post("/api/v1/reports", json=report(), headers=headers)
    assert resp.status_code == 401
    assert resp.json()["detail"]
    assert api.count(ReportRow) == 0


def test_the_same_report_twice_is_stored_once_and_both_calls_succeed(api: Api) -> None:
    token = api.enroll()
    body = report()
    first = api.client.post("/api/v1/reports", json=body, headers=auth(token))
    second = api.client.post("/api/v1/reports", json=body, headers=auth(token))
    assert (first.status_code, first.json()["status"]) == (201, "stored")
    assert (second.status_code, second.json()["status"]) == (200, "duplicate")
    assert api.count(ReportRow) == 1
    # Its samples, once: device 2 values, latency 4 numbers (its loss, with no interval, is not judged).
    assert api.count(SampleSetRow) == 1
    with api.engine.connect() as conn:
        assert len(school_samples(conn, body["school_uai"], NOW - timedelta(days=400))) == 2 + 4


def test_the_collector_takes_a_doubted_figure_and_never_judges_it(api: Api) -> None:
    token = api.enroll()
    body = report(results=[{"probe": "bandwidth", "status": "degraded", "duration_s": 20, "measurement": {
        "kind": "bandwidth", "server": "http://c", "download_mbps": 40.0, "upload_mbps": 8.4,
        "upload_windows": 7, "upload_spread_pct": 18.24, "loss_pct": 2.5, "loss_method": "icmp",
        "loss_samples": 200, "loss_ci_low_pct": 0.81, "loss_ci_high_pct": 5.74,
        "doubtful": {"upload_mbps": "its 7 windows disagree", "loss_pct": "5 of 200 lost"}}}])
    resp = api.client.post("/api/v1/reports", json=body, headers=auth(token))
    assert (resp.status_code, resp.json()["status"]) == (201, "stored")
    with api.engine.connect() as conn:
        metrics = {s.metric for s in school_samples(conn, "0350122T", NOW - timedelta(days=400))}
    assert "bandwidth.download_mbps" in metrics and "bandwidth.upload_spread_pct" in metrics
    assert not metrics & {"bandwidth.upload_mbps", "bandwidth.loss_pct"}
    school = api.client.get("/api/v1/schools/0350122T", headers=auth(api.reader)).json()
    rules = {r["rule_id"]: r for r in school["rules"]}
    assert rules["A2-upload-base"]["outcome"] == "no_data"  # 8.4 is above 2 Mbit/s, but not vouched for
    assert rules["A2-download-base"]["outcome"] == "pass"


@pytest.mark.parametrize(("patch", "path"), [
    ({"school_uai": "0350122A"}, ["body", "school_uai"]),
    ({"results": "none"}, ["body", "results"]),
    ({"taken_at": "yesterday"}, ["body", "taken_at"]),
])
def test_a_malformed_report_gets_422_with_the_field_path(api: Api, patch: dict[str, object],
                                                         path: list[str]) -> None:
    token = api.enroll()
    resp = api.client.post("/api/v1/reports", json=report(**patch), headers=auth(token))
    assert resp.status_code == 422
    assert path in [d["loc"][: len(path)] for d in resp.json()["detail"]]


def test_non_json_body_is_422_not_500(api: Api) -> None:
    token = api.enroll()
    resp = api.client.post("/api/v1/reports", content=b"{not json",
                           headers={**auth(token), "Content-Type": "application/json"})
    assert resp.status_code == 422


def test_an_agent_cannot_report_for_another_school(api: Api) -> None:
    token = api.enroll("0350122T")
    resp = api.client.post("/api/v1/reports", json=report(uai="0350127Y"), headers=auth(token))
    assert resp.status_code == 403
    assert "enrolled to 0350122T" in resp.json()["detail"]


def test_school_readiness_shows_level_and_evidence(api: Api) -> None:
    token = api.enroll()
    assert api.client.post("/api/v1/reports", json=report(), headers=auth(token)).status_code == 201
    assert api.client.get("/api/v1/schools/0350122T").status_code == 401
    resp = api.client.get("/api/v1/schools/0350122T", headers=auth(api.reader))
    assert resp.status_code == 200
    body = resp.json()
    assert body["level"] == "no_data"  # no bandwidth measured yet: judged honestly
    rules = {r["rule_id"]: r for r in body["rules"]}
    latency = rules["A12-latency"]
    assert latency["outcome"] == "fail"
    assert latency["source"] == "A12" and latency["proposed"] is True
    assert latency["evidence"][0]["value"] == 180.0
    assert latency["evidence"][0]["samples"] == 1
    assert latency["window_days"] == 7 and latency["threshold"] == 100
    assert rules["E5-ram"]["outcome"] == "pass"
    assert rules["A1-download-floor"]["outcome"] == "no_data"
    listing = api.client.get("/api/v1/schools", headers=auth(api.reader)).json()
    assert [(x["uai"], x["level"]) for x in listing] == [("0350122T", "no_data"), ("0350127Y", "no_data")]


def test_unknown_and_malformed_uai_are_refused_clearly(api: Api) -> None:
    resp = api.client.get("/api/v1/schools/0350128A", headers=auth(api.reader))
    assert resp.status_code == 422 and "check letter" in resp.json()["detail"]
    resp = api.client.get("/api/v1/schools/0350131C", headers=auth(api.reader))
    assert resp.status_code == 404 and "no school 0350131C" in resp.json()["detail"]


def test_profile_is_served(api: Api) -> None:
    body = api.client.get("/api/v1/profile").json()
    assert body["profile"]["profile"]["id"] == "socle-default"
    assert "equipment" not in body["profile"]  # what an agent made before the equipment rules reads
    full = api.client.get("/api/v1/profile?equipment=true").json()
    assert [r["id"] for r in full["profile"]["equipment"]][:2] == ["E1-projection", "E2-teacher-computer"]


def test_healthz_says_the_database_answers(api: Api) -> None:
    assert api.client.get("/healthz").json()["database"] == "ok"


@pytest.mark.parametrize("template", ['{"reports":[%s]}', ' {\n "reports" : [\n%s\n ]\n}\n'])
def test_a_lone_report_is_kept_as_it_was_sent(api: Api, template: str) -> None:
    """The nightly request (one report in a batch): its own JSON, however spaced, is the stored payload."""
    token = api.enroll()
    sent = json.dumps(report(), indent=2)
    r = api.client.post("/api/v1/reports/batch", content=template % sent,
                        headers={**auth(token), "Content-Type": "application/json"})
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "stored", r.text
    with api.engine.connect() as conn:
        (payload,) = conn.execute(select(ReportRow.payload)).one()
        if api.engine.dialect.name == "sqlite":  # the text itself, as received
            assert conn.exec_driver_sql("SELECT payload FROM reports").scalar_one() == sent
    assert payload == json.loads(sent)
    assert api.count(SampleSetRow) == 1


def test_a_batch_body_is_split_only_where_nothing_else_can_stand() -> None:
    assert lone_item(b'{"reports":[{"a":1}]}') == b'{"a":1}'
    assert lone_item(b' { "reports" :\n[ {"a":1} ] }\n') == b'{"a":1}'
    for body in (b'{"x":1,"reports":[{}]}', b'{"reports":{}}', b'["reports"]', b'{"reports":[{}]} x', b''):
        assert lone_item(body) is None
    # two keys that decode alike: the text between the brackets is no report, so the body is read whole
    twice = b'{"reports":[{"a":1}],"report\\u0073":[{"b":2}]}'
    assert lone_item(twice) == b'{"a":1}],"report\\u0073":[{"b":2}'


def test_a_batch_with_an_escaped_second_key_stores_what_pydantic_reads(api: Api) -> None:
    token = api.enroll()
    first, second = report(), report()
    body = '{"reports":[' + json.dumps(first) + '],"report\\u0073":[' + json.dumps(second) + "]}"
    r = api.client.post("/api/v1/reports/batch", content=body,
                        headers={**auth(token), "Content-Type": "application/json"})
    assert r.status_code in (200, 422), r.text
    if r.status_code == 200:  # whichever report was read, the one answered is the one stored, whole
        (item,) = r.json()["results"]
        with api.engine.connect() as conn:
            (payload,) = conn.execute(select(ReportRow.payload)).one()
        assert payload["report_id"] == item["report_id"]


@pytest.mark.skipif(small_disk_unavailable() is not None, reason=str(small_disk_unavailable()))
def test_healthz_says_when_writes_fail_on_a_full_disk(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk") as disk:
        engine = make_engine(f"sqlite:///{disk}/socle.db")
        app = create_app(CollectorSettings(), engine=engine)
        client = TestClient(app)
        assert client.get("/healthz").json() == {"status": "ok", "database": "ok", "writes": "ok"}
        fill(disk)
        answer = client.get("/healthz")
        assert answer.status_code == 503
        assert answer.json() == {"status": "error", "database": "ok", "writes": "failing"}
        (disk / "filler").unlink()
        assert client.get("/healthz").json()["writes"] == "ok"
        engine.dispose()
