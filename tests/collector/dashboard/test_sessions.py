"""Dashboard sessions: kept on the server, ended by sign-out, time and revocation; forms carry a token;
refused credentials are throttled per address. On both databases."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from collector.app import create_app
from collector.auth.credentials import create_api_token, create_enroll_code
from collector.auth.identity import revoke
from collector.auth.tokens import hash_secret
from collector.db.engine import session_factory
from collector.db.models import ApiToken, DashboardSession
from collector.schools.records import upsert_school
from config.collector_settings import CollectorSettings
from tests.collector_db import NOW, SCHOOLS

HTML = {"accept": "text/html"}


@dataclass
class Clock:
    """The app's clock, moved by the test."""

    now: datetime = field(default=NOW)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Dash:
    client: TestClient
    clock: Clock
    engine: Engine
    token: str
    token_id: str


def _dash(engine: Engine, **settings: float) -> Dash:
    clock = Clock()
    app = create_app(CollectorSettings(rate_limit_per_minute=0, **settings), engine=engine, clock=clock)
    with session_factory(engine)() as s:
        for school in SCHOOLS:
            upsert_school(s, school, NOW)
        token = create_api_token(s, "technician", NOW)
        s.commit()
        token_id = s.scalars(select(ApiToken.token_id)).one()
    return Dash(TestClient(app, raise_server_exceptions=False), clock, engine,
                token, token_id)


def _sign_in(d: Dash) -> str:
    r = d.client.post("/login", data={"token": d.token}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return str(d.client.cookies["socle_session"])


def _form_token(d: Dash) -> str:
    page = d.client.get("/dashboard/schools/0350122T", headers=HTML)
    assert page.status_code == 200
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert found is not None
    return found.group(1)


def test_the_cookie_is_a_session_id_kept_hashed_never_the_token(engine: Engine) -> None:
    d = _dash(engine)
    raw = _sign_in(d)
    assert raw != d.token and d.token not in raw
    with session_factory(engine)() as s:
        (row,) = s.scalars(select(DashboardSession)).all()
        assert row.id_hash == hash_secret(raw) and row.token_id == d.token_id
    assert d.client.get("/dashboard", headers=HTML, follow_redirects=False).status_code == 200


def test_sign_out_ends_the_session_on_the_server(engine: Engine) -> None:
    d = _dash(engine)
    raw = _sign_in(d)
    form = _form_token(d)
    assert d.client.post("/logout", data={"csrf": form}, follow_redirects=False).status_code == 303
    replay = TestClient(d.client.app, cookies={"socle_session": raw})
    assert replay.get("/dashboard", headers=HTML, follow_redirects=False).status_code == 303  # sign in again


def test_forms_without_their_token_are_refused(engine: Engine) -> None:
    d = _dash(engine)
    _sign_in(d)
    assert d.client.post("/logout", follow_redirects=False).status_code == 403  # a forged sign-out
    assert d.client.get("/dashboard", headers=HTML, follow_redirects=False).status_code == 200  # still in
    url = "/dashboard/schools/0350122T/speedtest-code"
    assert d.client.post(url, data={"csrf": "0" * 32}).status_code == 403
    made = d.client.post(url, data={"csrf": _form_token(d)})
    assert made.status_code == 201 and 'id="speedtest-code"' in made.text
    # a tool with the bearer header has no session, and no form token to send
    assert d.client.post(url, headers={"authorization": f"Bearer {d.token}"},
                         cookies={"socle_session": ""}).status_code == 201


@pytest.mark.parametrize(("after", "settings"), [
    (timedelta(minutes=61), {}),  # idle longer than an hour
    (timedelta(hours=12, seconds=1), {"dashboard_idle_minutes": 24 * 60}),  # past its lifetime
])
def test_a_session_ends_when_idle_or_old(engine: Engine, after: timedelta,
                                         settings: dict[str, float]) -> None:
    d = _dash(engine, **settings)
    _sign_in(d)
    d.clock.now = NOW + timedelta(minutes=59)
    assert d.client.get("/dashboard", headers=HTML, follow_redirects=False).status_code == 200
    d.clock.now = NOW + timedelta(minutes=59) + after
    assert d.client.get("/dashboard", headers=HTML, follow_redirects=False).status_code == 303


def test_revoking_the_token_ends_its_sessions(engine: Engine) -> None:
    d = _dash(engine)
    _sign_in(d)
    with session_factory(engine)() as s:
        revoke(s, d.token_id, NOW)
        s.commit()
    assert d.client.get("/dashboard", headers=HTML, follow_redirects=False).status_code == 303


def test_refused_sign_ins_and_guessed_tokens_are_throttled_per_address(engine: Engine) -> None:
    d = _dash(engine, auth_failures_per_minute=6, auth_failures_burst=3)
    codes = [d.client.post("/login", data={"token": f"st_guess{i}"}).status_code for i in range(4)]
    assert codes == [401, 401, 401, 429]
    refused = d.client.post("/login", data={"token": d.token}, follow_redirects=False)
    assert refused.status_code == 429 and refused.headers["retry-after"] == "10"
    other = TestClient(d.client.app, client=("192.0.2.7", 5000))
    assert other.get("/api/v1/schools", headers={"authorization": f"Bearer {d.token}"}).status_code == 200
    guesses = [other.get("/api/v1/schools", headers={"authorization": f"Bearer st_x{i}"}).status_code
               for i in range(4)]
    assert guesses == [401, 401, 401, 429]
    with session_factory(engine)() as s:  # an enrolment code guessed: the same
        create_enroll_code(s, "0350122T", NOW, timedelta(hours=1))
        s.commit()
    third = TestClient(d.client.app, client=("192.0.2.8", 5000))
    body = {"code": "AAAA-BBBB-CCCC-DDDD", "room": "CM1", "agent_version": "t",
            "device": {"instance_id": "6a1f2e36-44a2-4c4b-9a7e-0d3c2a8e9b11", "hostname": "pc"}}
    assert [third.post("/api/v1/enroll", json=body).status_code for _ in range(4)] == [401, 401, 401, 429]
