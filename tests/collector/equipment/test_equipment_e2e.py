"""End to end, on the real collector app and both databases: a school's four classes from the imported
directory and counts files, teacher machines enrolled with their role, reports whose displays section is
decoded from recorded EDIDs and ingested through the API, equipment declared through the command line
and a CSV import; the verdict read back through the API and the terminal report.

The school is the Janusz Korczak primary school of Langouët (0350306T): 4 classes in the 2022 counts
file. The scenario, room by room:

- CM1: the teacher's laptop (role teacher) drives an Epson projector on HDMI (EDID
  SECA514-46FD547BEEF9, "EPSON PJ") besides its own panel (BOE0634) — E1 and E2 measured;
- CM2: the teacher's desktop (role teacher) drives a SMART Board interactive display (SBI0070,
  "SBID-MX065") and a Dell monitor (DELA0B8, "DELL U2415") — E1 and E2 measured;
- CE1: a ceiling projector driven by the class's own laptop, which has no agent: both declared
  (projector and teacher computer) — E1 and E2 declared;
- CP: only a pupil machine (role pupil) with a Dell monitor — no projection system, no teacher computer:
  the fourth class, named in E1 and E2;
- the school: 8 tablets, an MDM, no charging cabinet, declared from a CSV — E3 not met (8 < 10), E4's
  MDM met, its cabinet not.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from collector.auth.credentials import create_enroll_code
from collector.cli.main import main as collector_main
from collector.schools.importing import import_directory
from config.wire import DeviceIdentity, ProbeResult, ProbeStatus, Report
from probes.displays.linux import DrmConnector, parse_drm
from probes.displays.reading import measurement
from tests.collector_db import NOW, Harness, auth
from tests.conftest import FIXTURES

SCHOOLS = FIXTURES / "schools"
EDID = FIXTURES / "displays" / "edid" / "linuxhw"
UAI = "0350306T"  # Ecole primaire publique Janusz Korczak, Langouet: 4 classes in the 2022 file


def _displays(*connectors: tuple[str, str]) -> ProbeResult:
    """The displays result a Linux agent makes from its DRM connectors, each a recorded EDID."""
    drm = [DrmConnector(name, f"/sys/class/drm/card0-{name}/edid", "connected",
                        (EDID / f"{blob}.bin").read_bytes()) for name, blob in connectors]
    return ProbeResult(probe="displays", status=ProbeStatus.ok, duration_s=0.01,
                       measurement=measurement("sysfs", parse_drm(drm)))


def _enrol_and_report(h: Harness, room: str, host: str, role: str, displays: ProbeResult) -> str:
    """Enrol a machine through the API with its role, then post one report with its displays reading."""
    with h.sessions() as s:
        code = create_enroll_code(s, UAI, NOW, timedelta(hours=1))
        s.commit()
    instance = uuid.uuid4()
    resp = h.client.post("/api/v1/enroll", json={
        "code": code, "room": room, "agent_version": "0.1.0", "role": role,
        "device": {"instance_id": str(instance), "hostname": host}})
    assert resp.status_code == 201, resp.text
    assert resp.json()["role"] == role
    token = resp.json()["token"]
    report = Report(report_id=uuid.uuid4(), agent_version="0.1.0",
                    device=DeviceIdentity(instance_id=instance, hostname=host), school_uai=UAI, room=room,
                    taken_at=NOW - timedelta(hours=7), results=[displays])
    sent = h.client.post("/api/v1/reports", content=report.model_dump_json(),
                         headers={**auth(token), "Content-Type": "application/json"})
    assert sent.status_code in (200, 201), sent.text
    return str(resp.json()["agent_id"])


@pytest.fixture
def school(harness: Harness, db_url: str, tmp_path: Path) -> dict[str, Any]:
    """The scenario above, built through the import, the API and the command line; the API's answer."""
    with harness.sessions() as s:
        import_directory(s, SCHOOLS / "annuaire-education-2023-dep035.csv", NOW,
                         SCHOOLS / "ecoles-effectifs-nb-classes-2022-dep035-labels.csv")
        s.commit()
    _enrol_and_report(harness, "CM1", "pc-cm1-enseignant", "teacher",
                      _displays(("eDP-1", "BOE0634-AAFF9BBB608B"), ("HDMI-A-1", "SECA514-46FD547BEEF9")))
    _enrol_and_report(harness, "CM2", "pc-cm2-enseignant", "teacher",
                      _displays(("DP-1", "DELA0B8-00665EA56836"), ("HDMI-A-1", "SBI0070-969ECF0800EF")))
    _enrol_and_report(harness, "CP", "pc-cp-eleve", "pupil", _displays(("DP-1", "DELA0B8-00665EA56836")))
    db = ["--db", db_url, "--data-dir", str(tmp_path / "data")]
    for item in ("vidéoprojecteur", "poste enseignant"):
        assert collector_main(["equipment", "set", UAI, "--room", "CE1", "--item", item, "--count", "1",
                               "--note", "au plafond, piloté par le portable de la classe (sans agent)",
                               "--by", "Mme Le Goff (ERUN)", *db]) == 0
    csv = tmp_path / "equipement.csv"
    csv.write_text("UAI;Salle;Équipement;Nombre;Remarque\n"
                   f"{UAI};;tablette;8;classe mobile\n"
                   f"{UAI};;MDM;1;\n"
                   f"{UAI};;armoire à chaussures;1;\n", encoding="utf-8")
    assert collector_main(["equipment", "import", str(csv), "--by", "mairie de Langouët", *db]) == 0
    body = harness.client.get(f"/api/v1/schools/{UAI}", headers=auth(harness.token("reader"))).json()
    assert body["classes"] == 4 and body["classes_source"]["origin"] == "import"
    return dict(body)


def _rule(body: dict[str, Any], rule_id: str) -> dict[str, Any]:
    return next(o for o in body["equipment"]["outcomes"] if o["rule_id"] == rule_id)


def _room(outcome: dict[str, Any], room: str) -> dict[str, Any]:
    return next(e for e in outcome["evidence"] if e["subject"] == room)


def test_e1_is_met_in_three_classes_of_four_and_names_the_fourth(school: dict[str, Any]) -> None:
    e1 = _rule(school, "E1-projection")
    assert (e1["outcome"], e1["met"], e1["of"], e1["missing"], e1["source"]) == ("fail", 3, 4, ["CP"], "E1")
    assert school["equipment"]["rooms"] == ["CE1", "CM1", "CM2", "CP"]
    cm1 = _room(e1, "CM1")["value"]
    assert (cm1["count"], cm1["origin"]) == (1, "measured")
    assert [(s["hostname"], s["role"], s["what"]) for s in cm1["measured"]] == [
        ("pc-cm1-enseignant", "teacher", "EPSON PJ (projector)")]
    cm2 = _room(e1, "CM2")["value"]
    assert [s["what"] for s in cm2["measured"]] == ["SBID-MX065 (interactive_display)"]
    ce1 = _room(e1, "CE1")["value"]
    assert (ce1["count"], ce1["origin"], ce1["measured"]) == (1, "declared", [])
    assert [(d["item"], d["count"], d["by"], d["source"]) for d in ce1["declared"]] == [
        ("projector", 1, "Mme Le Goff (ERUN)", "command line")]
    cp = _room(e1, "CP")
    assert (cp["outcome"], cp["value"]["count"], cp["value"]["origin"]) == ("fail", 0, "none")
    # The pupil machine was looked at: it shows no absence (only a teacher machine does), but is named.
    assert [(s["hostname"], s["what"]) for s in cp["value"]["measured"]] == [
        ("pc-cp-eleve", "no projection display: DELL U2415 (monitor)")]


def test_e2_likewise_with_the_teacher_machines_that_drive_the_displays(school: dict[str, Any]) -> None:
    e2 = _rule(school, "E2-teacher-computer")
    assert (e2["outcome"], e2["met"], e2["of"], e2["missing"], e2["source"]) == ("fail", 3, 4, ["CP"], "E2")
    drives = {room: [s["what"] for s in _room(e2, room)["value"]["measured"]] for room in ("CM1", "CM2")}
    assert drives == {"CM1": ["teacher machine, drives EPSON PJ"],
                      "CM2": ["teacher machine, drives SBID-MX065"]}
    assert _room(e2, "CE1")["value"]["origin"] == "declared"
    assert _room(e2, "CP")["value"]["origin"] == "none"  # a pupil machine is no teacher computer


def test_e3_is_not_met_with_eight_tablets_and_e4_wants_the_cabinet(school: dict[str, Any]) -> None:
    e3 = _rule(school, "E3-mobile-devices")
    assert (e3["outcome"], e3["met"], e3["needed"], e3["note"]) == ("fail", 8, 10, "8 < 10")
    evidence = e3["evidence"][0]
    assert evidence["note"] == "10 per 4 classes × 4 classes = 10"
    assert [(d["item"], d["count"], d["by"], d["source"]) for d in evidence["value"]["declared"]] == [
        ("tablet", 8, "mairie de Langouët", "equipement.csv line 2")]
    assert _rule(school, "E4-mdm")["outcome"] == "pass"
    assert _rule(school, "E4-charging-cabinet")["outcome"] == "fail"  # line 4 named no known item
    # Network and equipment are apart: no network measurement at all, equipment not ready.
    assert (school["level"], school["equipment"]["level"]) == ("no_data", "not_ready")


def test_the_terminal_report_and_the_import_say_the_same(school: dict[str, Any], db_url: str, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    db = ["--db", db_url, "--data-dir", str(tmp_path / "data")]
    assert collector_main(["report", UAI, *db]) == 0
    out = capsys.readouterr().out
    assert "Equipment: NOT READY" in out
    assert "E1-projection" in out and "met in 3 of 4 classes" in out and "missing in: CP" in out
    assert "E3-mobile-devices" in out and "8 of 10 needed" in out
    assert ("CM1: pass: 1 — measured by pc-cm1-enseignant (teacher) 2026-11-20 02:00: EPSON PJ (projector)"
            in out)
    bad = tmp_path / "bad.csv"
    bad.write_text("uai;room;item;count\n"
                   f"{UAI};CE2;projector;1\n"
                   f"{UAI};CE2;projector;2\n"
                   f"{UAI};CE2;tablet;-3\n"
                   "0350122X;;tablet;4\n"
                   f"{UAI};CE2;armoire à chaussures;1\n", encoding="utf-8")
    assert collector_main(["equipment", "import", str(bad), *db]) == 0
    captured = capsys.readouterr()
    assert "5 rows: 1 added, 0 updated, 0 unchanged, 4 bad rows" in captured.out
    lines = captured.err.splitlines()
    assert lines[0] == "line 3: skipped: projector of 0350306T CE2 already on line 2: the first line is kept"
    assert lines[1].startswith("line 4: skipped: count: Input should be greater than or equal to 0")
    assert lines[2].startswith("line 5: skipped: uai: Value error,")
    assert lines[3].startswith("line 6: skipped: item: Value error, 'armoire à chaussures' is not an "
                               "equipment item")
