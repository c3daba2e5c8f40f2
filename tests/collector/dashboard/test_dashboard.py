"""The dashboard over HTTP (no browser): sign-in, scope, filters, language, school page, speed test API."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from collector.auth.credentials import create_enroll_code
from collector.dashboard.i18n import CATALOGUE
from collector.db.models import AgentRow
from collector.db.sample_sets import school_samples
from collector.ingest.single import ingest
from collector.schools.importing import import_directory
from tests.conftest import FIXTURES, ROOT
from tests.dashboard_support import BAULON, CARDROC, NOW, Seeded, agent_report, seed

HTML = {"accept": "text/html"}
FIX = FIXTURES / "schools"


@pytest.fixture
def seeded(tmp_path: Path, db_url: str) -> Seeded:
    """The seeded collector, on SQLite and on PostgreSQL."""
    return seed(tmp_path, db_url=db_url)


def client(seeded: Seeded, token: str | None = "reader") -> TestClient:
    c = TestClient(seeded.app)
    if token:
        r = c.post("/login", data={"token": seeded.tokens[token], "next": "/dashboard"},
                   follow_redirects=False)
        assert r.status_code == 303
    return c


def counts(html: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'id="count-(\w+)">(\d+)<', html)}


def listed(html: str) -> list[str]:
    return re.findall(r'<tr data-uai="(\w+)">', html)


def test_pages_need_sign_in(seeded: Seeded) -> None:
    c = client(seeded, None)
    r = c.get("/dashboard?level=base", headers=HTML, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/login?next=/dashboard%3Flevel%3Dbase")
    assert c.get("/dashboard/export.csv").status_code == 401
    page = c.get("/login")
    assert page.status_code == 200 and "Jeton d&#39;accès" in page.text


def test_bad_token_is_refused_and_sign_in_sets_a_strict_httponly_cookie(seeded: Seeded) -> None:
    c = client(seeded, None)
    r = c.post("/login", data={"token": "st_nope"})
    assert r.status_code == 401 and "Jeton inconnu, expiré ou révoqué." in r.text
    r = c.post("/login", data={"token": seeded.tokens["reader"], "next": "//evil.example/"},
               follow_redirects=False)
    assert r.headers["location"] == "/dashboard"  # no open redirect
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert "socle_session=" in cookie and seeded.tokens["reader"] not in cookie  # a session id, not the token
    page = c.get("/dashboard", headers=HTML)
    form = page.text.split('name="csrf" value="')[1].split('"')[0]
    assert c.post("/logout", data={"csrf": form}, follow_redirects=False).status_code == 303
    assert c.get("/dashboard", headers=HTML, follow_redirects=False).status_code == 303


def test_bearer_header_works_for_tools(seeded: Seeded) -> None:
    c = TestClient(seeded.app)
    r = c.get("/dashboard/export.json", headers={"authorization": f"Bearer {seeded.tokens['reader']}"})
    assert r.status_code == 200
    assert [s["uai"] for s in r.json()["schools"]] == ["0350122T", "0350165P", "0350192U", "0940176F"]


def test_overview_counts_and_filters(seeded: Seeded) -> None:
    c = client(seeded)
    page = c.get("/dashboard").text
    assert counts(page) == {"not_ready": 1, "base": 1, "target": 0, "no_data": 2, "silent": 0}
    assert listed(page) == ["0350122T", "0350165P", "0350192U", "0940176F"]  # by commune, then name
    assert listed(c.get("/dashboard?commune=baulon").text) == ["0350122T"]
    assert listed(c.get("/dashboard?departement=094").text) == ["0940176F"]
    assert listed(c.get("/dashboard?departement=94").text) == ["0940176F"]
    assert listed(c.get("/dashboard?level=base").text) == ["0350165P"]
    assert listed(c.get("/dashboard?rule=E5-ram").text) == ["0350122T"]
    assert listed(c.get("/dashboard?rule=A3-download-target").text) == ["0350122T", "0350165P"]
    assert listed(c.get("/dashboard?q=cardroc").text) == ["0350165P"]
    assert listed(c.get("/dashboard?q=0940").text) == ["0940176F"]
    assert listed(c.get("/dashboard?q=doisneau&level=not_ready").text) == []


def test_scope_limits_list_counts_exports_and_school_pages(seeded: Seeded) -> None:
    c = client(seeded, "baulon")
    page = c.get("/dashboard").text
    assert listed(page) == ["0350122T"]
    assert counts(page)["not_ready"] == 1 and sum(counts(page).values()) == 1
    assert c.get(f"/dashboard/schools/{CARDROC.uai}").status_code == 403
    assert c.get(f"/dashboard/schools/{CARDROC.uai}/report").status_code == 403
    assert [s["uai"] for s in c.get("/dashboard/export.json").json()["schools"]] == ["0350122T"]
    assert listed(client(seeded, "creteil").get("/dashboard").text) == ["0940176F"]


def test_french_by_default_english_on_request(seeded: Seeded) -> None:
    c = client(seeded)
    page = c.get(f"/dashboard/schools/{BAULON.uai}")
    assert page.headers["content-language"] == "fr"
    assert '<html lang="fr">' in page.text and ">Non prête<" in page.text
    assert "Débit descendant d&#39;au moins 8 Mbit/s" in page.text  # the rule's French title
    r = c.get(f"/lang/en?next=/dashboard/schools/{BAULON.uai}", follow_redirects=False)
    assert r.headers["location"] == f"/dashboard/schools/{BAULON.uai}"
    page = c.get(f"/dashboard/schools/{BAULON.uai}")
    assert '<html lang="en">' in page.text and ">Not ready<" in page.text
    assert "Download at least 8 Mbit/s" in page.text
    assert ">Non prête<" in c.get(f"/dashboard/schools/{BAULON.uai}?lang=fr").text


def test_catalogue_has_the_same_keys_in_both_languages() -> None:
    assert set(CATALOGUE["fr"]) == set(CATALOGUE["en"])
    used = set()
    for tpl in (ROOT / "collector" / "templates").glob("*.html"):
        used |= set(re.findall(r'\bt\("([a-z_.]+[a-z])"[,)]', tpl.read_text(encoding="utf-8")))
    assert len(used) > 60
    assert used - set(CATALOGUE["fr"]) == set()


def test_school_page_shows_rules_evidence_rooms_devices_agents_and_charts(seeded: Seeded) -> None:
    page = client(seeded).get(f"/dashboard/schools/{BAULON.uai}").text
    rule = page[page.index('id="rule-A1-download-floor"'):page.index('id="rule-A2-download-base"')]
    assert "outcome-fail" in rule and "source A1" in rule
    assert '<td class="num">5,4 Mbit/s</td>' in rule  # median of the seven nights 5.1 … 5.7
    assert "7 mesure(s), 20/11/2026 11:00 UTC → 26/11/2026 11:00 UTC" in rule
    assert '<tr data-room="CE2"><td>CE2</td>' in page
    assert "-62 dBm" in page and "-72 dBm" in page  # median signal of CE2, CM1
    assert "pc-cm1#" in page and "3,8 Go" in page  # a 4 GB PC, failing E5-ram
    chart = page[page.index('id="chart-download"'):page.index('id="chart-upload"')]
    assert chart.count("<polyline") == 1 and chart.count("<circle") == 7  # seven nights
    signal = page[page.index('id="chart-signal"'):page.index("</figure>", page.index('id="chart-signal"'))]
    assert signal.count("<polyline") == 2  # one line per Wi-Fi room
    assert "26/11/2026 11:00 UTC" in page.split("<table class=\"agents\">")[1]


def test_printable_report_lists_failing_rules(seeded: Seeded) -> None:
    page = client(seeded).get(f"/dashboard/schools/{BAULON.uai}/report").text
    assert "Rapport de raccordement et d&#39;équipement" in page
    assert 'href="/static/print.css" media="print"' in page
    assert 'id="rule-E5-ram"' in page and 'id="rule-A12-latency"' not in page  # only failing ones
    css = client(seeded).get("/static/print.css")
    assert css.status_code == 200 and "@page" in css.text
    assert client(seeded).get("/static/..%2Fdirectory.py").status_code == 404


def test_silent_schools(seeded: Seeded) -> None:
    c = client(seeded)
    assert counts(c.get("/dashboard").text)["silent"] == 0
    seeded.app.state.socle.clock = lambda: NOW + timedelta(days=4)  # last reports were a day before NOW
    c = client(seeded)  # four days on, the first sign-in has ended: sign in again
    page = c.get("/dashboard").text
    assert counts(page)["silent"] == 2
    assert listed(c.get("/dashboard?level=silent").text) == ["0350122T", "0350165P"]


def test_overview_follows_new_reports(seeded: Seeded) -> None:
    c = client(seeded)
    assert listed(c.get("/dashboard?level=not_ready").text) == ["0350122T"]  # verdicts now cached
    with seeded.sessions() as session:
        agent = session.scalars(select(AgentRow).where(AgentRow.hostname == "pc-dir")).one()
        for hours in range(1, 10):  # nine slow tests beside the seven at 24 Mbit/s: median 1.0
            rep = agent_report(CARDROC.uai, "Bureau", "pc-dir", uuid.UUID(agent.instance_id),
                               NOW - timedelta(hours=hours), download=1.0, upload=0.5)
            ingest(session, agent, rep, NOW)
        session.commit()
    assert listed(c.get("/dashboard?level=not_ready").text) == ["0350122T", "0350165P"]


def _form_token(c: TestClient, uai: str) -> str:
    """The form token of the signed-in session, as the school page carries it."""
    return c.get(f"/dashboard/schools/{uai}").text.split('name="csrf" value="')[1].split('"')[0]


def test_speed_test_code_needs_a_technician(seeded: Seeded) -> None:
    reader = client(seeded)
    url = f"/dashboard/schools/{BAULON.uai}/speedtest-code"
    assert reader.post(url, data={"csrf": _form_token(reader, BAULON.uai)}).status_code == 403
    tech = client(seeded, "tech")
    r = tech.post(url, data={"csrf": _form_token(tech, BAULON.uai)})
    assert r.status_code == 201
    assert re.search(r'id="speedtest-code">[A-Z2-9]{4}(-[A-Z2-9]{4}){3}<', r.text)


def _code(seeded: Seeded) -> str:
    with seeded.sessions() as session:
        code = create_enroll_code(session, BAULON.uai, NOW, timedelta(hours=2))
        session.commit()
    return code


def test_speed_test_api_files_a_report_under_school_and_room(seeded: Seeded) -> None:
    c = TestClient(seeded.app)
    code = _code(seeded)
    assert c.post("/speedtest/api/check", json={"code": "AAAA-BBBB-CCCC-DDDD"}).status_code == 401
    info = c.post("/speedtest/api/check", json={"code": code.lower()})
    assert info.json() == {"school_uai": BAULON.uai, "school_name": BAULON.name, "commune": "Baulon"}
    body = {"code": code, "room": "Salle 12", "connection": "wifi", "download_mbps": 42.5,
            "upload_mbps": 9.25, "download_s": 10.0, "upload_s": 10.0, "min_rtt_ms": 3.5,
            "upload_source": "server_tcp_info", "bytes_used": 65_000_000}
    r = c.post("/speedtest/api/result", json=body)
    assert r.status_code == 201, r.text
    assert (r.json()["school_uai"], r.json()["room"]) == (BAULON.uai, "Salle 12")
    assert c.post("/speedtest/api/result", json=body).status_code == 401  # the code is spent
    with seeded.sessions() as session:
        rows = [(x.metric, x.value, x.limited_by) for x in school_samples(
            session.connection(), BAULON.uai, NOW - timedelta(days=400)) if x.room == "Salle 12"]
        agent = session.scalars(select(AgentRow).where(AgentRow.agent_version == "browser-ndt7/1")).one()
    got = {m: (v, lim) for m, v, lim in rows}
    assert got["bandwidth.download_mbps"] == (42.5, "browser_wifi")  # Wi-Fi: shown, cannot fail the line
    assert got["bandwidth.upload_mbps"] == (9.25, "browser_wifi")
    assert got["bandwidth.idle_latency_min_ms"] == (3.5, "browser_wifi")
    assert agent.revoked_at is not None  # the one-shot credential is gone
    page = client(seeded).get(f"/dashboard/schools/{BAULON.uai}").text
    assert 'data-room="Salle 12"' in page and "42,5 Mbit/s" in page
    assert "<td>browser</td>" not in page  # the revoked one-shot agent is not listed


def test_speed_test_result_is_validated(seeded: Seeded) -> None:
    c = TestClient(seeded.app)
    code = _code(seeded)
    bad = c.post("/speedtest/api/result", json={"code": code, "room": "X", "download_mbps": -1})
    assert bad.status_code == 422
    assert c.post("/speedtest/api/check", json={"code": code}).status_code == 200  # not spent


def test_overview_on_a_real_directory(tmp_path: Path) -> None:
    seeded = seed(tmp_path)
    with seeded.sessions() as session:
        import_directory(session, FIX / "annuaire-education-2023-dep035.csv", NOW)
        session.commit()
    c = client(seeded)
    page = c.get("/dashboard").text
    # The export's 684 open primary schools (three of them seeded before), and Fresnes (094).
    assert sum(counts(page)[k] for k in ("not_ready", "base", "target", "no_data")) == 685
    assert "Page 1 sur 14" in page
    rennes = c.get("/dashboard?commune=Rennes&level=no_data").text
    assert "école(s)" in rennes and len(listed(rennes)) == 50
    assert listed(c.get("/dashboard?q=0350122T").text) == ["0350122T"]


def test_every_default_rule_has_a_french_title() -> None:
    from collector.dashboard.i18n import RULE_TITLES_FR
    from config.profile import load_profile

    missing = {r.id for r in load_profile().rules} - set(RULE_TITLES_FR)
    assert missing == set(), f"add a French title to collector/dashboard/i18n.py RULE_TITLES_FR: {missing}"
