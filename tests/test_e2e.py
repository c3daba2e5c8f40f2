"""End to end: a real collector process, the real socle-agent executable, the verdict via the API."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import requests

from config.agent_settings import load_agent_settings
from tests.conftest import FIXTURES, Collector, free_port, run_cli
from tests.test_loopback_configs import off_machine


def _enrol(collector: Collector, state: Path, room: str = "CM1") -> None:
    added = collector.admin("school", "add", "0350122T", "--name", "Ecole primaire publique les Lucioles",
                            "--commune", "Baulon", "--pupils", "143")
    assert added.returncode == 0, added.stderr
    code = collector.admin("enroll-code", "0350122T")
    assert code.returncode == 0, code.stderr
    enrolled = run_cli("socle-agent", "enroll", "--collector", collector.url, "--code",
                       code.stdout.strip().splitlines()[-1], "--room", room, "--state-dir", str(state))
    assert enrolled.returncode == 0, enrolled.stderr
    assert "enrolled to Ecole primaire publique les Lucioles (0350122T), room CM1" in enrolled.stdout


def test_enrol_check_and_read_the_verdict(collector: Collector, tmp_path: Path) -> None:
    state = tmp_path / "agent"
    _enrol(collector, state)
    cred = state / "credential.json"
    assert stat.S_IMODE(cred.stat().st_mode) == 0o600
    assert json.loads(cred.read_text())["school_uai"] == "0350122T"

    check = run_cli("socle-agent", "check", "--state-dir", str(state))
    assert check.returncode in (0, 1), check.stderr
    assert "probe" in check.stdout and "E5-ram: >= " in check.stdout
    assert "stored by the collector" in check.stderr
    # This machine's own figures decide pass or fail; the exit code must agree with the table.
    assert ("FAIL —" in check.stdout) == (check.returncode == 1)

    token = collector.admin("token", "create", "--role", "reader").stdout.strip().splitlines()[-1]
    resp = requests.get(f"{collector.url}/api/v1/schools/0350122T",
                        headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert resp.status_code == 200
    school = resp.json()
    rules = {r["rule_id"]: r for r in school["rules"]}
    ram = rules["E5-ram"]
    assert ram["outcome"] in ("pass", "fail") and ram["evidence"][0]["samples"] == 1
    assert ram["evidence"][0]["value"] > 0
    latency = rules["A12-latency"]
    assert latency["outcome"] == "pass"  # loopback round trips are far below 100 ms
    assert 0 < latency["evidence"][0]["value"] < 100
    device_failed = any(rules[r]["outcome"] == "fail" for r in rules if r.startswith(("E5", "E7")))
    if device_failed:
        assert school["level"] == "not_ready"
    else:
        assert school["level"] in ("no_data", "base", "target", "not_ready")

    report = collector.admin("report", "0350122T")
    assert report.returncode == 0
    assert "Level:" in report.stdout and "A12-latency" in report.stdout


def test_check_json_prints_the_report(collector: Collector, tmp_path: Path) -> None:
    state = tmp_path / "agent"
    _enrol(collector, state)
    out = run_cli("socle-agent", "check", "--json", "--no-send", "--state-dir", str(state))
    assert out.returncode in (0, 1), out.stderr
    report = json.loads(out.stdout)
    assert report["school_uai"] == "0350122T" and report["room"] == "CM1"
    assert {r["probe"] for r in report["results"]} >= {"device", "latency"}


def test_broken_config_exits_2_naming_file_field_and_reason(tmp_path: Path) -> None:
    cfg = tmp_path / "agent.toml"
    cfg.write_text("[probes.latency]\nsamples = 1\n")
    out = run_cli("socle-agent", "check", "--no-send", "--uai", "0350122T", "--room", "CM1",
                  "--config", str(cfg), "--state-dir", str(tmp_path / "a"))
    assert out.returncode == 2
    assert str(cfg) in out.stderr
    assert "probes.latency.samples" in out.stderr
    assert "greater than or equal to 3" in out.stderr


def test_unknown_probe_in_config_exits_2(tmp_path: Path) -> None:
    cfg = tmp_path / "agent.toml"
    cfg.write_text('[probes]\nenabled = ["device", "telepathy"]\n')
    out = run_cli("socle-agent", "check", "--no-send", "--config", str(cfg))
    assert out.returncode == 2
    assert "unknown probe(s) telepathy" in out.stderr


def test_wrong_uai_check_letter_exits_2_with_the_reason(tmp_path: Path) -> None:
    out = run_cli("socle-agent", "check", "--no-send", "--uai", "0350122A", "--room", "CM1",
                  "--state-dir", str(tmp_path))
    assert out.returncode == 2
    assert "wrong check letter 'A', expected 'T'" in out.stderr
    out = run_cli("socle-collector", "school", "add", "0350122A", "--name", "x", "--commune", "y",
                  "--data-dir", str(tmp_path / "c"))
    assert out.returncode == 2
    assert "wrong check letter 'A', expected 'T'" in out.stderr


def test_unreachable_collector_exits_3(collector: Collector, tmp_path: Path) -> None:
    state = tmp_path / "agent"
    _enrol(collector, state)
    cfg = tmp_path / "agent.toml"
    # The suite's loopback-only probes, so that the check measures nothing off this machine.
    cfg.write_text((FIXTURES / "agent" / "loopback.toml").read_text(encoding="utf-8")
                   + f'\n[collector]\nurl = "http://127.0.0.1:{free_port()}"\ntimeout_s = 2\n')
    assert off_machine(load_agent_settings(cfg)) == []
    out = run_cli("socle-agent", "check", "--state-dir", str(state), "--config", str(cfg))
    assert out.returncode == 3, out.stdout + out.stderr
    assert "cannot reach the collector" in out.stderr
    status = run_cli("socle-agent", "status", "--state-dir", str(state))
    assert status.returncode == 0


def test_not_enrolled_check_exits_2(tmp_path: Path) -> None:
    out = run_cli("socle-agent", "check", "--state-dir", str(tmp_path))
    assert out.returncode == 2
    assert "not enrolled" in out.stderr


def test_a_teacher_machine_enrols_with_its_role_and_counts_for_its_class(collector: Collector,
                                                                       tmp_path: Path) -> None:
    """The real agent says its role at enrolment; its check reaches the equipment verdict. This build
    machine has no display: the displays probe is unavailable, so the room has a teacher computer (E2)
    and no projection system seen (E1), never an empty reading taken for 'none attached'."""
    state = tmp_path / "agent"
    assert collector.admin("school", "add", "0350122T", "--name", "Les Lucioles", "--commune", "Baulon",
                           "--classes", "1").returncode == 0
    code = collector.admin("enroll-code", "0350122T").stdout.strip().splitlines()[-1]
    enrolled = run_cli("socle-agent", "enroll", "--collector", collector.url, "--code", code, "--room", "CM1",
                       "--role", "teacher", "--state-dir", str(state))
    assert enrolled.returncode == 0, enrolled.stderr
    assert "room CM1, role teacher" in enrolled.stdout
    listed = collector.admin("agent", "list", "0350122T")
    assert "\tCM1\t" in listed.stdout and "\tteacher\t" in listed.stdout
    check = run_cli("socle-agent", "check", "--state-dir", str(state))
    assert check.returncode in (0, 1), check.stderr
    token = collector.admin("token", "create", "--role", "reader").stdout.strip().splitlines()[-1]
    school = requests.get(f"{collector.url}/api/v1/schools/0350122T",
                          headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
    rules = {o["rule_id"]: o for o in school["equipment"]["outcomes"]}
    assert (rules["E1-projection"]["outcome"], rules["E1-projection"]["missing"]) == ("fail", ["CM1"])
    e2 = rules["E2-teacher-computer"]
    assert (e2["outcome"], e2["met"], e2["of"]) == ("pass", 1, 1)
    assert e2["evidence"][0]["value"]["measured"][0]["what"] == "teacher machine, no displays reading"
