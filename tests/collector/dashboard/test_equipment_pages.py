"""The equipment part of the dashboard: the school page's section and declaration form (its form token,
technicians and admins only), what is missing in French and English, the counts per commune and
département and their exports."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from collector.db.models import AgentRow, DeclaredItem
from collector.equipment.declared import ItemDeclaration, set_item
from collector.ingest.single import ingest
from collector.schools.records import update_school
from config.equipment import Item
from config.wire import DeviceIdentity, ProbeResult, ProbeStatus, Report
from probes.displays.linux import DrmConnector, parse_drm
from probes.displays.reading import measurement
from tests.collector_db import auth
from tests.conftest import FIXTURES
from tests.dashboard_support import BAULON, NOW, Seeded, seed

HTML = {"Accept": "text/html"}
EDID = FIXTURES / "displays" / "edid" / "linuxhw"
PAGE = f"/dashboard/schools/{BAULON.uai}"


@pytest.fixture
def seeded(tmp_path: Path) -> Seeded:
    """The seeded collector; Baulon has 2 classes, its CE2 machine is the teacher's (no displays reading)."""
    s = seed(tmp_path)
    with s.sessions() as session:
        update_school(session, BAULON.uai, {"classes": 2}, NOW)
        agent = session.scalars(select(AgentRow).where(AgentRow.hostname == "pc-ce2")).one()
        agent.role = "teacher"
        session.commit()
    return s


def _signed_in(s: Seeded, token: str) -> tuple[TestClient, str | None]:
    client = TestClient(s.app, raise_server_exceptions=False)
    assert client.post("/login", data={"token": token}, follow_redirects=False).status_code == 303
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', client.get(PAGE, headers=HTML).text)
    return client, found.group(1) if found else None


def test_the_school_page_says_what_is_missing_in_both_languages(seeded: Seeded) -> None:
    client = TestClient(seeded.app)
    fr = client.get(PAGE, headers={**HTML, **auth(seeded.tokens["reader"])}).text
    assert 'id="equipment-level">Non prête' in fr
    missing = re.search(r'<ul id="equipment-missing">(.*?)</ul>', fr, re.S)
    assert missing is not None
    assert re.findall(r"<li>(.*?)</li>", missing.group(1)) == [
        "CE2 : aucun système de projection vu ni déclaré",
        "1 classe(s) sans salle connue : aucun système de projection vu ni déclaré",
        "1 classe(s) sans salle connue : aucun ordinateur enseignant vu ni déclaré",
        "École : 0 appareil(s) mobile(s) pour 5 requis"]
    assert 'id="equipment-form"' not in fr  # a reader declares nothing
    printed = client.get(PAGE + "/report", headers={**HTML, **auth(seeded.tokens["reader"])}).text
    assert "CE2 : aucun système de projection vu ni déclaré" in printed  # for the funding file
    en = client.get(PAGE + "?lang=en", headers={**HTML, **auth(seeded.tokens["reader"])}).text
    assert "CE2: no projection system seen or declared" in en
    assert "School: 0 mobile device(s) of 5 needed" in en


def test_a_technician_declares_through_the_form_with_its_token(seeded: Seeded) -> None:
    client, csrf = _signed_in(seeded, seeded.tokens["tech"])
    assert csrf is not None
    form = {"room": "ce2", "item": "projector", "count": "1", "note": "au plafond"}
    assert client.post(f"{PAGE}/equipment", data=form, follow_redirects=False).status_code == 403
    sent = client.post(f"{PAGE}/equipment", data={**form, "csrf": csrf}, follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"].endswith("?declared=projector#equipment")
    with seeded.sessions() as s:
        row = s.scalars(select(DeclaredItem)).one()
        # The room as the school's agent spells it; by the token, from the dashboard.
        assert (row.room, row.item, row.count, row.note, row.source) == ("CE2", "projector", 1, "au plafond",
                                                                         "dashboard")
        assert row.declared_by.endswith("(technician, dashboard)")
    page = client.get(sent.headers["location"], headers=HTML).text
    assert 'id="equipment-saved">Déclaration enregistrée : Vidéoprojecteur' in page
    assert "CE2 : aucun système de projection" not in page
    bad = client.post(f"{PAGE}/equipment", data={**form, "count": "-2", "csrf": csrf})
    assert bad.status_code == 422 and 'id="equipment-error"' in bad.text and "count" in bad.text
    reader, reader_csrf = _signed_in(seeded, seeded.tokens["reader"])
    refused = reader.post(f"{PAGE}/equipment", data={**form, "csrf": reader_csrf or ""})
    assert refused.status_code == 403


def test_counts_per_commune_and_the_exports(seeded: Seeded) -> None:
    client = TestClient(seeded.app)
    who = auth(seeded.tokens["baulon"])  # a reader scoped to the commune of Baulon
    page = client.get("/dashboard/equipment", headers={**HTML, **who})
    assert page.status_code == 200
    row = re.search(r'id="equipment-communes">.*?<tr data-area="35016">(.*?)</tr>', page.text, re.S)
    assert row is not None
    cells = re.findall(r'<td class="num">(\d+)</td>', row.group(1))
    # schools, classes, unknown class counts, E1 classes without, E2 classes without, E3 schools without,
    # E3 devices missing, E4 MDM, E4 cabinet (not applicable without mobile devices: 0)
    assert cells == ["1", "2", "0", "2", "1", "1", "5", "0", "0"]
    body = client.get("/dashboard/equipment.csv", headers=who).content.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(body), delimiter=";"))
    assert lines[0][:3] == ["uai", "name", "commune"]
    assert ["0350122T", "CE2", "projection", "E1-projection", "E1", "0", "1",
            "CE2 : aucun système de projection vu ni déclaré"] in [
        [r[0], r[6], r[7], r[8], r[9], r[10], r[11], r[12]] for r in lines[1:]]
    doc = json.loads(client.get("/dashboard/equipment.json", headers=who).content)
    assert doc["communes"][0]["lacking"]["E1-projection"] == 2
    assert {m["uai"] for m in doc["missing"]} == {"0350122T"}  # the scope: Baulon only
    counts = client.get("/dashboard/equipment-counts.csv", headers=who).content.decode("utf-8-sig")
    assert counts.splitlines()[1].startswith("departement;035;035;1;2;0;2;1;1;0;0;")


def test_a_measured_projector_wins_over_a_declared_none_and_the_page_says_so(seeded: Seeded) -> None:
    with seeded.sessions() as s:
        agent = s.scalars(select(AgentRow).where(AgentRow.hostname == "pc-ce2")).one()
        set_item(s, ItemDeclaration(uai=BAULON.uai, room="CE2", item=Item.projector, count=0), "ERUN",
                 "command line", NOW - timedelta(days=60))
        drm = [DrmConnector("HDMI-A-1", "/sys/class/drm/card0-HDMI-A-1/edid", "connected",
                            (EDID / "SECA514-46FD547BEEF9.bin").read_bytes())]
        displays = ProbeResult(probe="displays", status=ProbeStatus.ok, duration_s=0.01,
                               measurement=measurement("sysfs", parse_drm(drm)))
        report = Report(report_id=uuid.uuid4(), agent_version="0.1.0",
                        device=DeviceIdentity(instance_id=uuid.UUID(agent.instance_id), hostname="pc-ce2"),
                        school_uai=BAULON.uai, room="CE2", taken_at=NOW - timedelta(hours=7),
                        results=[displays])
        ingest(s, agent, report, NOW - timedelta(hours=7))
        s.commit()
    page = TestClient(seeded.app).get(PAGE, headers={**HTML, **auth(seeded.tokens["reader"])}).text
    assert ("Contradiction : déclaré 0, mesuré 1 : le nombre mesuré est retenu" in page)
    assert "CE2 : aucun système de projection" not in page
    assert "vu par pc-ce2 (enseignant) le" in page and "poste enseignant, pilote EPSON PJ" in page
