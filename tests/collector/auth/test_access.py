"""Access control: roles, scopes, expiry and revocation, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from collector.auth.access import Action, Scope, ScopeError, allowed, covers, parse_scope
from collector.auth.credentials import create_api_token
from collector.db.models import ApiToken
from collector.errors import StoreError
from collector.schools.records import update_school, upsert_school
from config.uai import check_letter
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
    ("commune:35016", Scope("commune", "35016")),
    ("commune:2a004", Scope("commune", "2A004")),
    ("commune:Baulon (35)", Scope("commune", "Baulon (035)")),
    ("commune: Saint-Denis  ( 974 ) ", Scope("commune", "Saint-Denis (974)")),
    ("circonscription:0350739n", Scope("circonscription", "0350739N")),
    ("circonscription:Bruz (035)", Scope("circonscription", "Bruz (035)")),
    ("departement:35", Scope("departement", "035")),
    ("departement:2a", Scope("departement", "02A")),
    ("Academie: Rennes ", Scope("academie", "Rennes")),
])
def test_scopes_parse(text: str, expected: Scope) -> None:
    assert parse_scope(text) == expected


@pytest.mark.parametrize("text", ["", "everything", "commune:", "region:Bretagne", "departement:12345",
                                  "departement:3-5", "commune:Baulon", "commune:3501", "commune:Baulon (3-5)",
                                  "circonscription:Bruz", "circonscription:0350739A",
                                  "academie:Ren\x00nes"])
def test_bad_scopes_are_refused_with_the_syntax(text: str) -> None:
    with pytest.raises(ScopeError):
        parse_scope(text)


def test_scope_matching() -> None:
    baulon = SCHOOLS[0]
    assert covers(parse_scope("commune:35016"), baulon)
    assert covers(parse_scope("commune:BAULON (35)"), baulon)
    assert not covers(parse_scope("commune:Baulon (29)"), baulon)
    assert not covers(parse_scope("commune:35047"), baulon)
    assert covers(parse_scope("departement:35"), baulon)
    assert not covers(parse_scope("departement:029"), baulon)
    assert covers(parse_scope("academie:rennes"), baulon)
    # Without a recorded département, the UAI tells it; Corsica's 620 is 2A.
    ajaccio = SchoolPublic(uai="6200001G", name="x", commune="Ajaccio")
    assert covers(parse_scope("departement:2A"), ajaccio)
    assert covers(parse_scope("commune:Ajaccio (2A)"), ajaccio)
    assert not covers(parse_scope("commune:2A004"), ajaccio)  # no INSEE code recorded


def test_circonscription_scopes_by_code_or_by_name_and_departement() -> None:
    baulon = SCHOOLS[0].model_copy(update={
        "circonscription": "Circonscription d'inspection du 1er degré de Bruz",
        "circonscription_code": "0350739N"})
    assert covers(parse_scope("circonscription:0350739N"), baulon)
    assert covers(parse_scope("circonscription:bruz (35)"), baulon)
    assert covers(parse_scope("circonscription:Circonscription d'inspection du 1er degré de Bruz (035)"),
                  baulon)
    assert not covers(parse_scope("circonscription:Bruz (29)"), baulon)
    assert not covers(parse_scope("circonscription:Redon (35)"), baulon)
    assert not covers(parse_scope("circonscription:0350739N"), SCHOOLS[1])  # none recorded


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
    assert "commune:<INSEE code>" in err.value.message


@pytest.mark.parametrize("scope", ["commune:35016", "commune:Baulon (35)"])
def test_a_reader_sees_only_its_commune(harness: Harness, scope: str) -> None:
    token = harness.token("reader", scope)
    listed = harness.client.get("/api/v1/schools", headers=auth(token))
    assert listed.status_code == 200
    assert [s["uai"] for s in listed.json()] == [BAULON]
    assert harness.client.get(f"/api/v1/schools/{BAULON}", headers=auth(token)).status_code == 200
    other = harness.client.get(f"/api/v1/schools/{BRUZ}", headers=auth(token))
    assert other.status_code == 403
    assert other.json()["detail"] == f"school 0350127Y is not in your scope ({parse_scope(scope)})"


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
    tech = harness.token("technician", "commune:35016")
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
    assert refused.json()["detail"] == "school 0350127Y is not in your scope (commune:35016)"
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


# --- the hostile-input issue: scopes by commune name leak; refusals say where a school is -----------

SAINT_DENIS_93 = SchoolPublic(uai=f"0930001{check_letter('0930001')}", name="École Jean Vilar",
                              commune="Saint-Denis", commune_code="93066", departement="093",
                              academie="Créteil")
SAINT_DENIS_974 = SchoolPublic(uai=f"9740001{check_letter('9740001')}", name="École du Butor",
                               commune="Saint-Denis", commune_code="97411", departement="974",
                               academie="La Réunion")


def _add(harness: Harness, *schools: SchoolPublic) -> None:
    with harness.sessions() as s:
        for school in schools:
            upsert_school(s, school, NOW)
        s.commit()


def _listed(harness: Harness, token: str) -> list[str]:
    resp = harness.client.get("/api/v1/schools", headers=auth(token))
    assert resp.status_code == 200, resp.text
    return [s["uai"] for s in resp.json()]


def test_a_commune_is_scoped_by_its_insee_code_not_by_a_name_that_repeats(harness: Harness) -> None:
    """Item 1: ``commune:Saint-Denis`` read the schools of Saint-Denis (93) and of Saint-Denis (974)."""
    _add(harness, SAINT_DENIS_93, SAINT_DENIS_974)
    with harness.sessions() as s, pytest.raises(StoreError) as err:
        create_api_token(s, "reader", NOW, "commune:Saint-Denis")
    assert err.value.status == 422
    assert "a commune name alone is ambiguous" in err.value.message
    assert "this collector knows Saint-Denis (093): 93066, Saint-Denis (974): 97411" in err.value.message
    assert _listed(harness, harness.token("reader", "commune:93066")) == [SAINT_DENIS_93.uai]
    assert _listed(harness, harness.token("reader", "commune:97411")) == [SAINT_DENIS_974.uai]
    assert _listed(harness, harness.token("reader", "commune:saint-denis (93)")) == [SAINT_DENIS_93.uai]
    refused = harness.client.get(f"/api/v1/schools/{SAINT_DENIS_974.uai}",
                                 headers=auth(harness.token("reader", "commune:Saint-Denis (93)")))
    assert refused.status_code == 403


def test_a_circonscription_scope_reads_its_schools_only(harness: Harness) -> None:
    """Item 1: the inspection district's scope, by its UAI or by name and département."""
    bruz = "Circonscription d'inspection du 1er degré de Bruz"
    with harness.sessions() as s:
        for uai in (BAULON, BRUZ):
            update_school(s, uai, {"circonscription": bruz, "circonscription_code": "0350739N"}, NOW)
        s.commit()
    assert sorted(_listed(harness, harness.token("reader", "circonscription:0350739N"))) == [BAULON, BRUZ]
    assert sorted(_listed(harness, harness.token("reader", "circonscription:Bruz (35)"))) == [BAULON, BRUZ]
    assert _listed(harness, harness.token("reader", "circonscription:Bruz (29)")) == []
    tech = harness.token("technician", "circonscription:0350739N")
    for uai, status in ((BAULON, 201), (BREST, 403)):
        made = harness.client.post(f"/api/v1/schools/{uai}/enroll-codes", headers=auth(tech))
        assert made.status_code == status


@pytest.mark.parametrize("scope", ["commune:35016", "departement:035", "academie:Créteil"])
def test_refusals_do_not_say_where_the_other_school_is(harness: Harness, scope: str) -> None:
    """Item 3: a refusal named the other school's commune, département and académie."""
    _add(harness, SAINT_DENIS_974)
    reader, tech = harness.token("reader", scope), harness.token("technician", scope)
    for resp in (harness.client.get(f"/api/v1/schools/{SAINT_DENIS_974.uai}", headers=auth(reader)),
                 harness.client.post(f"/api/v1/schools/{SAINT_DENIS_974.uai}/enroll-codes",
                                     headers=auth(tech))):
        assert resp.status_code == 403
        detail = resp.json()["detail"]
        assert detail == f"school {SAINT_DENIS_974.uai} is not in your scope ({parse_scope(scope)})"
        for where in ("Saint-Denis", "97411", "974 ", "(974", "La Réunion", "département", "académie"):
            assert where not in detail.replace(SAINT_DENIS_974.uai, "")


def test_a_scope_written_under_the_old_rules_grants_nothing_and_says_why(harness: Harness) -> None:
    token = harness.token("reader")
    with harness.sessions() as s:
        s.execute(update(ApiToken).values(scope="commune:Baulon"))
        s.commit()
    for path in ("/api/v1/schools", f"/api/v1/schools/{BAULON}"):
        resp = harness.client.get(path, headers=auth(token))
        assert resp.status_code == 403
        assert resp.json()["detail"].startswith(
            "this token grants nothing: scope 'commune:Baulon': a commune name alone is ambiguous")
    page = harness.client.get("/dashboard", headers=auth(token)).text
    assert 'id="scope-refused"' in page and "Ce jeton ne donne accès à aucune école" in page
