"""Access control: roles, scopes, expiry and revocation, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from collector.auth.access import Action, Scope, ScopeError, allowed, covers, parse_scope
from collector.auth.credentials import create_api_token
from collector.db.models import ApiToken
from collector.errors import StoreError
from config.wire import SchoolPublic
from tests.collector_db import (
    NOW,
    SCHOOLS,
    Harness,
    auth,
    report_body,
)

BAULON, BRUZ, BREST = (s.uai for s in SCHOOLS)


# --- the pure rules -------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("all", Scope("all")),
    ("commune:Baulon", Scope("commune", "Baulon")),
    ("departement:35", Scope("departement", "035")),
    ("departement:2a", Scope("departement", "02A")),
    ("Academie: Rennes ", Scope("academie", "Rennes")),
])
def test_scopes_parse(text: str, expected: Scope) -> None:
    assert parse_scope(text) == expected


@pytest.mark.parametrize("text", ["", "everything", "commune:", "region:Bretagne", "departement:12345",
                                  "departement:3-5"])
def test_bad_scopes_are_refused_with_the_syntax(text: str) -> None:
    with pytest.raises(ScopeError):
        parse_scope(text)


def test_scope_matching() -> None:
    baulon = SCHOOLS[0]
    assert covers(parse_scope("commune:BAULON"), baulon)
    assert not covers(parse_scope("commune:Bruz"), baulon)
    assert covers(parse_scope("departement:35"), baulon)
    assert not covers(parse_scope("departement:029"), baulon)
    assert covers(parse_scope("academie:rennes"), baulon)
    # Without a recorded département, the UAI tells it; Corsica's 620 is 2A.
    ajaccio = SchoolPublic(uai="6200001G", name="x", commune="Ajaccio")
    assert covers(parse_scope("departement:2A"), ajaccio)


def test_roles_grant_actions() -> None:
    assert allowed("reader", "all", Action.read)
    assert not allowed("reader", "all", Action.enroll)
    assert allowed("technician", "all", Action.enroll)
    assert not allowed("technician", "all", Action.admin)
    assert allowed("admin", "all", Action.admin)
    assert not allowed("agent", "all", Action.read)
    assert not allowed("reader", "garbage", Action.read)  # a damaged scope grants nothing


# --- over HTTP, both databases --------------------------------------------------

def test_token_creation_checks_the_scope(harness: Harness) -> None:
    with harness.sessions() as s, pytest.raises(StoreError) as err:
        create_api_token(s, "reader", NOW, "region:Bretagne")
    assert err.value.status == 422
    assert "commune:<name>" in err.value.message


def test_a_reader_sees_only_its_commune(harness: Harness) -> None:
    token = harness.token("reader", "commune:Baulon")
    listed = harness.client.get("/api/v1/schools", headers=auth(token))
    assert listed.status_code == 200
    assert [s["uai"] for s in listed.json()] == [BAULON]
    assert harness.client.get(f"/api/v1/schools/{BAULON}", headers=auth(token)).status_code == 200
    other = harness.client.get(f"/api/v1/schools/{BRUZ}", headers=auth(token))
    assert other.status_code == 403
    assert "scope (commune:Baulon) does not cover school 0350127Y" in other.json()["detail"]


def test_a_departement_reader_sees_its_departement(harness: Harness) -> None:
    token = harness.token("reader", "departement:35")
    listed = harness.client.get("/api/v1/schools", headers=auth(token)).json()
    assert sorted(s["uai"] for s in listed) == sorted([BAULON, BRUZ])
    assert harness.client.get(f"/api/v1/schools/{BREST}", headers=auth(token)).status_code == 403
    everything = harness.token("reader", "academie:Rennes")
    assert len(harness.client.get("/api/v1/schools", headers=auth(everything)).json()) == 3


def test_an_agent_of_school_a_cannot_post_for_school_b(harness: Harness) -> None:
    agent_a = harness.enroll(BAULON)
    resp = harness.client.post("/api/v1/reports", json=report_body(BRUZ), headers=auth(agent_a))
    assert resp.status_code == 403
    assert "enrolled to 0350122T, not 0350127Y" in resp.json()["detail"]
    assert harness.client.post("/api/v1/reports", json=report_body(BAULON),
                               headers=auth(agent_a)).status_code == 201


def test_an_agent_credential_cannot_read(harness: Harness) -> None:
    agent = harness.enroll(BAULON)
    resp = harness.client.get(f"/api/v1/schools/{BAULON}", headers=auth(agent))
    assert resp.status_code == 401


def test_a_reader_cannot_post_reports(harness: Harness) -> None:
    reader = harness.token("reader")
    resp = harness.client.post("/api/v1/reports", json=report_body(BAULON), headers=auth(reader))
    assert resp.status_code == 401


def test_expired_and_revoked_tokens_are_refused(harness: Harness) -> None:
    expired = harness.token("reader", ttl=timedelta(seconds=-1))
    resp = harness.client.get("/api/v1/schools", headers=auth(expired))
    assert resp.status_code == 401
    assert "expired or revoked" in resp.json()["detail"]
    revoked = harness.token("reader")
    with harness.sessions() as s:
        for row in s.scalars(select(ApiToken)):
            row.revoked_at = NOW
        s.commit()
    assert harness.client.get("/api/v1/schools", headers=auth(revoked)).status_code == 401
    assert harness.client.get("/api/v1/schools").status_code == 401  # no token at all


def test_technicians_make_codes_in_their_scope_only(harness: Harness) -> None:
    tech = harness.token("technician", "commune:Baulon")
    made = harness.client.post(f"/api/v1/schools/{BAULON}/enroll-codes", headers=auth(tech))
    assert made.status_code == 201, made.text
    code = made.json()["code"]
    assert made.json()["school_uai"] == BAULON
    enrolled = harness.client.post("/api/v1/enroll", json={
        "code": code, "room": "CE2", "agent_version": "0.1.0",
        "device": {"instance_id": "5f0c6f0e-9d5b-4b8e-8f3a-2b9a7c1d0e11", "hostname": "pc-ce2"}})
    assert enrolled.status_code == 201
    assert enrolled.json()["school_uai"] == BAULON
    refused = harness.client.post(f"/api/v1/schools/{BRUZ}/enroll-codes", headers=auth(tech))
    assert refused.status_code == 403
    assert "does not cover school 0350127Y" in refused.json()["detail"]
    reader = harness.token("reader")
    denied = harness.client.post(f"/api/v1/schools/{BAULON}/enroll-codes", headers=auth(reader))
    assert denied.status_code == 403
    assert denied.json()["detail"] == ("a reader token may not make enrolment codes; "
                                       "this needs a admin or technician token")
    admin = harness.token("admin")
    assert harness.client.post(f"/api/v1/schools/{BREST}/enroll-codes",
                               headers=auth(admin)).status_code == 201
    unknown = harness.client.post("/api/v1/schools/0350999Z/enroll-codes", headers=auth(admin))
    assert unknown.status_code in (404, 422)
