"""A school's verdict history over HTTP: the API, the school page's timeline, the overview's since
filter and sort, and the exports, on both databases."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from fastapi.testclient import TestClient

from collector.app import create_app
from collector.judge.history import record_evidence
from collector.judge.sweep import sweep
from config.collector_settings import CollectorSettings
from tests.collector.judge.test_history import download_profile, night
from tests.collector_db import NOW, Harness, auth, report_body

HTML = {"accept": "text/html"}
BACK, STAYS = "0350122T", "0350127Y"  # below base on night 3; one recovers on night 9, one stays


def _play(h: Harness) -> Harness:
    """Both schools' nights 0 to 11 under the download profile, served by an app judging with it."""
    profile = download_profile()
    tokens = {u: h.enroll(u) for u in (BACK, STAYS)}
    for k in range(12):
        for uai, token in tokens.items():
            low = k >= 3 and (uai == STAYS or k < 9)
            body = report_body(uai=uai, down=12.0 if low else 50.0, taken_at=night(k) - timedelta(hours=1))
            assert h.client.post("/api/v1/reports", json=body, headers=auth(token)).status_code == 201
        sweep(h.engine, profile, night(k))
    h.app = create_app(CollectorSettings(), engine=h.engine, profile=profile, clock=lambda: NOW)
    h.client = TestClient(h.app)
    return h


def _signed_in(h: Harness) -> TestClient:
    r = h.client.post("/login", data={"token": h.token("reader"), "next": "/dashboard"},
                      follow_redirects=False)
    assert r.status_code == 303
    return h.client


def test_api_gives_since_and_every_change(harness: Harness) -> None:
    h = _play(harness)
    reader = h.token("reader")
    body = h.client.get(f"/api/v1/schools/{BACK}/history", headers=auth(reader)).json()
    z = lambda d: d.isoformat().replace("+00:00", "Z")  # noqa: E731 - as the API writes times
    assert (body["level"], body["since"], body["rules"]) == ("base", z(night(9)), {})
    assert [(c["subject"], c["was"], c["became"], c["cause"]) for c in body["changes"]] == [
        ("A2-download-base", "fail", "pass", "data"), ("level", "not_ready", "base", "data"),
        ("A2-download-base", "pass", "fail", "data"), ("level", "base", "not_ready", "data")]
    stays = h.client.get(f"/api/v1/schools/{STAYS}/history", headers=auth(reader)).json()
    assert stays["rules"] == {"A2-download-base": {"outcome": "fail",
                                                   "since": night(3).isoformat().replace("+00:00", "Z")}}
    listed = {s["uai"]: s for s in h.client.get("/api/v1/schools", headers=auth(reader)).json()}
    assert listed[STAYS]["since"] == night(3).isoformat().replace("+00:00", "Z")
    assert [s["since"] for s in listed.values() if s["uai"] not in (BACK, STAYS)] == [None]  # no agent
    other = h.token("reader", scope="departement:029")
    assert h.client.get(f"/api/v1/schools/{BACK}/history", headers=auth(other)).status_code == 403


def test_school_page_shows_since_and_the_timeline(harness: Harness) -> None:
    c = _signed_in(_play(harness))
    page = c.get(f"/dashboard/schools/{STAYS}", headers=HTML).text
    since = re.search(r'<p class="since" id="since">(.*?)</p>', page, re.S)
    assert since is not None
    text = " ".join(re.sub(r"<[^>]+>", "", since.group(1)).split())
    assert text == (f"Non prête depuis le {night(3):%d/%m/%Y} (8 jours); "
                    "A2-download-base : non respectée depuis")
    assert len(re.findall(r'<tr class="change cause-data"', page)) == 2
    back = c.get(f"/dashboard/schools/{BACK}?lang=en", headers=HTML).text
    assert f"Base met since {night(9):%Y-%m-%d} (2 days)" in back
    assert back.count("the school&#39;s measurements changed") == 4
    assert "being recorded" in back  # the evidence comes after the sweep (record_evidence)
    record_evidence(harness.engine, download_profile())
    back = c.get(f"/dashboard/schools/{BACK}?lang=en", headers=HTML).text
    assert "being recorded" not in back
    assert "<code class=\"rule\">A2-download-base</code> failing · school 12 / 16 (1)" in back


def test_overview_filters_and_sorts_by_since_and_exports_carry_it(harness: Harness) -> None:
    c = _signed_in(_play(harness))
    rows = lambda html: re.findall(r'<tr data-uai="(\w+)">', html)  # noqa: E731
    assert rows(c.get("/dashboard?since_days=7", headers=HTML).text) == [BACK]  # night 9: 2 days ago
    assert set(rows(c.get("/dashboard?since_days=30", headers=HTML).text)) == {BACK, STAYS}
    assert rows(c.get("/dashboard?sort=recent", headers=HTML).text)[:2] == [BACK, STAYS]
    assert rows(c.get("/dashboard?sort=longest", headers=HTML).text)[:2] == [STAYS, BACK]
    assert rows(c.get("/dashboard?since_days=nonsense", headers=HTML).text)[:2] != []
    text = c.get("/dashboard/export.csv?sort=longest&lang=en").content.decode("utf-8-sig")
    got = {r["uai"]: r["level_since"] for r in csv.DictReader(io.StringIO(text), delimiter=";")}
    assert got[STAYS] == night(3).isoformat() and got[BACK] == night(9).isoformat()
    assert c.get("/dashboard/export.json?since_days=7").json()["schools"][0]["level_since"] == \
        night(9).isoformat()
