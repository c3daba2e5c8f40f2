"""Room surveys: recorded tool outputs replayed through the Wi-Fi probe's command runner,
summed up per room, filed to a real collector and shown as per-room coverage and a picture.

Every tool output here is a real capture from tests/fixtures/wifi (see SOURCES.md);
expected figures were read from those files by hand.
"""

from __future__ import annotations

import argparse
import itertools
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from agent.cli import main as agent_main
from agent.state import AgentState
from agent.survey import (
    FALLBACK_SIGNAL_DBM,
    FALLBACK_SNR_DB,
    Figures,
    cmd_survey,
    summarise,
    survey_result,
    take_readings,
    thresholds,
)
from collector.wifi.coverage import RoomCoverage
from collector.wifi.coverage_svg import coverage_svg
from config.agent_settings import AgentSettings
from config.profile import load_profile
from config.readiness import evaluate
from config.samples import samples_from_report
from config.wire import DeviceIdentity, ProbeStatus, Report
from probes.base import CommandResult, ProbeContext, ToolMissing
from tests.conftest import FIXTURES, Collector

FIX = FIXTURES / "wifi"
SP = "system_profiler SPAirPortDataType -json"
# macOS system_profiler: the link in use ("-55 dBm / -98 dBm", ch 6, open) ...
MAC_STRONG = "macos/system_profiler/wifiheatmapper-mac-sp_10.15.7.json"
# ... and a MacBook on a phone hotspot: -68 dBm / -93 dBm, ch 149, WPA2-Personal, SSID-4.
MAC_WEAK = "macos/system_profiler/wifiheatmapper-mac-sp_12.7.2-AP.json"
MAC_OFF = "macos/system_profiler/wifiheatmapper-mac-sp_12.7.2-no-AP.json"  # Wi-Fi on, not associated
IW_DEV = "linux/iw-dev/wifiheatmapper-iw-dev-wlp1s0-info.txt"  # managed interface wlp1s0
# iw link from three machines: -51 dBm (ch 1), -60 dBm (5300 MHz), -44 dBm (5280 MHz); no noise floor.
IW_LINKS = ["linux/iw-link/wifiheatmapper-iw-dev-wlp1s0-link.txt",
            "linux/iw-link/issue-rtl8812au-42-iw-link-vht.txt",
            "linux/iw-link/issue-cinnamon-9301-iw-link-vht80.txt"]
IW_SCAN = "linux/iw-scan/jc-centos77-iw-scan0.txt"  # Cisco1240 on ch 1, Cisco1250 on ch 11


def _text(rel: str) -> str:
    return (FIX / rel).read_text(encoding="utf-8")


def replay(outputs: dict[str, Sequence[str]]):
    """A command runner answering each command with its recorded outputs, in turn (cycling)."""
    cycles: dict[str, Iterator[str]] = {k: itertools.cycle([_text(f) for f in v]) for k, v in outputs.items()}

    def run(argv: Sequence[str], timeout: float) -> CommandResult:
        key = " ".join(argv)
        if key not in cycles:
            raise ToolMissing(f"{argv[0]} is not installed")
        return CommandResult(0, next(cycles[key]))
    return run


class FakeTime:
    """A clock that moves only when the survey sleeps."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self.slept: list[float] = []

    def clock(self) -> datetime:
        return self.now

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.now += timedelta(seconds=s)


def mac_ctx(files: Sequence[str], start: datetime) -> ProbeContext:
    t = FakeTime(start)
    return ProbeContext(os_name="darwin", run=replay({SP: files}), clock=t.clock, sleep=t.sleep)


def linux_ctx(start: datetime) -> ProbeContext:
    t = FakeTime(start)
    return ProbeContext(os_name="linux", clock=t.clock, sleep=t.sleep, run=replay({
        "iw dev": [IW_DEV], "iw dev wlp1s0 link": IW_LINKS, "iw dev wlp1s0 scan dump": [IW_SCAN]}))


T0 = datetime(2026, 11, 24, 9, 15, tzinfo=UTC)
BUNDLED = thresholds(load_profile())  # W6 and W7 of the bundled profile: -67 dBm, 25 dB


def test_readings_are_taken_through_the_probe_with_the_injected_sleep_and_clock() -> None:
    t = FakeTime(T0)
    ctx = ProbeContext(os_name="linux", clock=t.clock, sleep=t.sleep, run=replay({
        "iw dev": [IW_DEV], "iw dev wlp1s0 link": IW_LINKS, "iw dev wlp1s0 scan dump": [IW_SCAN]}))
    seen: list[int] = []
    readings = take_readings(ctx, 4, 2.5, lambda i, r: seen.append(i))
    assert seen == [1, 2, 3, 4] and t.slept == [2.5, 2.5, 2.5]
    assert [r.taken_at for r in readings] == [T0 + timedelta(seconds=2.5 * i) for i in range(4)]
    assert [r.outcome.measurement.signal_dbm for r in readings] == [-51, -60, -44, -51]  # type: ignore[union-attr]


def test_linux_survey_summary_has_signal_but_no_snr_and_says_why() -> None:
    m = summarise(take_readings(linux_ctx(T0), 6, 1.0), BUNDLED, 1.0)
    assert (m.samples, m.samples_with_signal) == (6, 6)
    assert m.signal_median_dbm == -51 and m.signal_min_dbm == -60  # -51 -60 -44 -51 -60 -44
    assert m.signal_share_ok_pct == 100.0
    assert m.snr_median_db is None and m.snr_share_ok_pct is None
    assert m.missing["snr_db"] == "iw link does not report the noise floor"
    assert m.ssid in ("SSID-1", "xxx", "HOME5") and len(m.readings) == 6
    assert {n.ssid for n in m.neighbours} == {"Cisco1240", "Cisco1250"}
    # The -51 dBm link is on channel 1, where the scan hears Cisco1240.
    assert m.same_channel_networks == 1


def test_share_counts_each_reading_at_the_threshold() -> None:
    # 9 strong readings and 1 at -68 dBm: 90 % at -67 or better; a second weak one makes 80 %.
    nine = summarise(take_readings(mac_ctx([MAC_STRONG] * 9 + [MAC_WEAK], T0), 10, 0), BUNDLED)
    assert nine.signal_share_ok_pct == 90.0 and nine.signal_min_dbm == -68
    assert nine.snr_median_db == 43 and nine.snr_share_ok_pct == 100.0  # -55/-98 and -68/-93 (25 dB)
    eight = summarise(take_readings(mac_ctx([MAC_STRONG] * 8 + [MAC_WEAK] * 2, T0), 10, 0), BUNDLED)
    assert eight.signal_share_ok_pct == 80.0
    # The open network drags the room's security to level 0 (W12).
    assert nine.security_level == 0


def test_the_shares_use_the_profile_figures_and_the_fallback_only_without_the_rule() -> None:
    assert Figures(-67.0, 25.0) == BUNDLED
    profile = load_profile()
    stricter = profile.model_copy(update={"rules": [
        r.model_copy(update={"threshold": -60.0}) if r.id == "W6-signal" else r
        for r in profile.rules if r.id != "W7-snr"]})
    assert thresholds(stricter) == Figures(-60.0, FALLBACK_SNR_DB)
    assert FALLBACK_SIGNAL_DBM == -67.0 and FALLBACK_SNR_DB == 25.0
    # -55 dBm meets -60 dBm, -68 dBm does not: one reading in two.
    m = summarise(take_readings(mac_ctx([MAC_STRONG, MAC_WEAK], T0), 4, 0), thresholds(stricter))
    assert (m.threshold_dbm, m.signal_share_ok_pct, m.snr_threshold_db) == (-60.0, 50.0, 25.0)


def test_lost_readings_are_counted_never_given_a_number() -> None:
    readings = take_readings(mac_ctx([MAC_STRONG, MAC_OFF], T0), 4, 0)
    result = survey_result(readings, 1.0, BUNDLED)
    m = result.measurement
    assert result.status is ProbeStatus.degraded
    assert (m.samples, m.samples_with_signal) == (4, 2)  # type: ignore[union-attr]
    assert [r.signal_dbm for r in m.readings] == [-55, None, -55, None]  # type: ignore[union-attr]
    assert "not connected" in (m.readings[1].reason or "")  # type: ignore[union-attr]
    none = survey_result(take_readings(mac_ctx([MAC_OFF], T0), 2, 0), 1.0, BUNDLED)
    assert none.status is ProbeStatus.unavailable


def test_each_survey_reading_becomes_a_wifi_sample_and_w6_w7_judge_the_room() -> None:
    result = survey_result(take_readings(mac_ctx([MAC_WEAK], T0), 3, 5.0), 10.0, BUNDLED)
    report = Report(report_id=uuid.uuid4(), agent_version="0.1.0",
                    device=DeviceIdentity(instance_id=uuid.uuid4(), hostname="tech"),
                    school_uai="0350122T", room="CM2", taken_at=T0 + timedelta(seconds=10), results=[result])
    samples = [s for s in samples_from_report(report) if s.metric.startswith("wifi.")]
    signals = [(s.value, s.taken_at) for s in samples if s.metric == "wifi.signal_dbm"]
    assert signals == [(-68.0, T0), (-68.0, T0 + timedelta(seconds=5)), (-68.0, T0 + timedelta(seconds=10))]
    assert [s.value for s in samples if s.metric == "wifi.snr_db"] == [25.0] * 3
    link = {s.metric: s.value for s in samples if s.metric in ("wifi.security_level", "wifi.channel_plan_ok")}
    assert link == {"wifi.security_level": 3.0, "wifi.channel_plan_ok": 1.0}
    judged = evaluate(load_profile(), samples_from_report(report), report.taken_at)
    ev = {o.rule_id: o for o in judged.outcomes}
    assert ev["W6-signal"].outcome.value == "fail" and ev["W6-signal"].evidence[0].subject == "CM2"
    assert ev["W7-snr"].outcome.value == "pass"
    assert ev["W12-security"].outcome.value == "pass" and ev["W11-channel-plan"].outcome.value == "pass"


def test_svg_has_one_bar_per_room_and_the_threshold_line() -> None:
    rooms = [RoomCoverage(room="CP", samples=6, signal_median_dbm=-51, signal_min_dbm=-60, w6="pass"),
             RoomCoverage(room="CE1 & <CE2>", samples=4, signal_median_dbm=-55, signal_min_dbm=-55,
                          w6="pass"),
             RoomCoverage(room="CM2", samples=4, signal_median_dbm=-68, signal_min_dbm=-68, w6="fail"),
             RoomCoverage(room="Salle info", samples=0)]
    svg = coverage_svg(rooms, -67.0, "Wi-Fi coverage — Les Lucioles")
    root = ET.fromstring(svg)
    ns = {"s": "http://www.w3.org/2000/svg"}
    bars = root.findall(".//s:rect[@class='bar']", ns)
    assert [b.get("data-room") for b in bars] == ["CP", "CE1 & <CE2>", "CM2"]
    assert [b.get("data-w6") for b in bars] == ["pass", "pass", "fail"]
    assert bars[2].get("fill") != bars[0].get("fill")
    line = root.find(".//s:line[@class='threshold']", ns)
    assert line is not None and line.get("data-dbm") == "-67"
    # The -68 dBm bar's top lies below the -67 dBm line; the -51 dBm bar's above it.
    y = float(line.get("y1") or 0)
    assert float(bars[2].get("y") or 0) > y > float(bars[0].get("y") or 0)
    labels = [t.text for t in root.findall(".//s:text[@class='room-label']", ns)]
    assert labels == ["CP", "CE1 & <CE2>", "CM2", "Salle info"]


def _survey(state: Path, room: str, ctx: ProbeContext, samples: int) -> int:
    args = argparse.Namespace(room=room, samples=samples, interval=2.0, json=False, no_send=False, uai=None)
    return cmd_survey(args, AgentSettings(), AgentState(state), make_ctx=lambda: ctx)


def test_three_rooms_surveyed_appear_on_the_collector_with_their_verdicts(
        collector: Collector, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert collector.admin("school", "add", "0350122T", "--name", "Les Lucioles",
                           "--commune", "Baulon").returncode == 0
    code = collector.admin("enroll-code", "0350122T").stdout.strip().splitlines()[-1]
    state = tmp_path / "tech-laptop"
    assert agent_main(["enroll", "--collector", collector.url, "--code", code, "--room", "CP",
                       "--state-dir", str(state)]) == 0
    # The last school day (not Wednesday) before today, 09:00 UTC: 10:00 or 11:00 in Paris, in class;
    # and 21:30 UTC the evening before: 22:30 or 23:30 in Paris, after hours.
    day = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=1)
    while day.weekday() not in (0, 1, 3, 4):
        day -= timedelta(days=1)
    night = (day - timedelta(days=1)).replace(hour=21, minute=30)

    assert _survey(state, "CP", linux_ctx(day), 6) == 0
    assert _survey(state, "CE1", mac_ctx([MAC_STRONG], day + timedelta(minutes=10)), 5) == 1  # open: W12
    assert _survey(state, "CM2", mac_ctx([MAC_WEAK], night), 5) == 1
    err = capsys.readouterr().err
    assert "sample 3/5: -68 dBm, SNR 25 dB (5GHz, ch 149)" in err
    assert err.count("stored by the collector") == 3

    token = collector.admin("token", "create", "--role", "reader").stdout.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}"}
    cov = requests.get(f"{collector.url}/api/v1/schools/0350122T/coverage", headers=headers, timeout=10)
    assert cov.status_code == 200, cov.text
    body = cov.json()
    assert body["threshold_dbm"] == -67 and body["snr_threshold_db"] == 25
    rooms = {r["room"]: r for r in body["rooms"]}
    assert sorted(rooms) == ["CE1", "CM2", "CP"]
    cp, ce1, cm2 = rooms["CP"], rooms["CE1"], rooms["CM2"]
    assert (cp["samples"], cp["signal_median_dbm"], cp["signal_min_dbm"], cp["signal_share_ok_pct"]) \
        == (6, -51, -60, 100)
    assert (cp["w6"], cp["w7"], cp["snr_samples"]) == ("pass", "no_data", 0)  # iw gives no noise floor
    assert (ce1["samples"], ce1["signal_median_dbm"], ce1["snr_median_db"], ce1["w6"], ce1["w7"]) \
        == (5, -55, 43, "pass", "pass")
    assert (ce1["band"], ce1["channel"], ce1["ssid"]) == ("2.4GHz", 6, "SSID-6")
    assert (cm2["signal_median_dbm"], cm2["signal_share_ok_pct"], cm2["snr_share_ok_pct"]) == (-68, 0, 100)
    assert (cm2["w6"], cm2["w7"], cm2["band"], cm2["channel"]) == ("fail", "pass", "5GHz", 149)
    assert cm2["same_channel_networks"] == 1

    svg = requests.get(f"{collector.url}/api/v1/schools/0350122T/coverage.svg", headers=headers, timeout=10)
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    bars = ET.fromstring(svg.text).findall(".//{http://www.w3.org/2000/svg}rect[@class='bar']")
    assert [(b.get("data-room"), b.get("data-w6")) for b in bars] == [("CE1", "pass"), ("CM2", "fail"),
                                                                       ("CP", "pass")]

    # The school page: W6 fails in CM2 only, and the loi Abeille item stays apart from the rules.
    school = requests.get(f"{collector.url}/api/v1/schools/0350122T", headers=headers, timeout=10).json()
    rules = {r["rule_id"]: r for r in school["rules"]}
    assert {e["subject"]: e["outcome"] for e in rules["W6-signal"]["evidence"]} \
        == {"CP": "pass", "CE1": "pass", "CM2": "fail"}
    assert [c["rule_id"] for c in school["compliance"]] == ["W1"]
    assert school["compliance"][0]["outcome"] == "no_data"  # the school's SSIDs are not set yet
    out = collector.admin("school", "wifi", "0350122T", "--ssid", "SSID-4", "--ssid", "SSID-6")
    assert out.returncode == 0, out.stderr
    assert "SSIDs SSID-4, SSID-6; teaching hours mon,tue,thu,fri 08:30-16:30; wed 08:30-12:00" in out.stdout
    school = requests.get(f"{collector.url}/api/v1/schools/0350122T", headers=headers, timeout=10).json()
    w1 = school["compliance"][0]
    assert (w1["outcome"], w1["readings_outside_hours"]) == ("fail", 1)
    assert [(f["ssid"], f["rooms"], f["connected"]) for f in w1["findings"]] == [("SSID-4", ["CM2"], True)]
    assert "W1" not in rules  # a legal item, not a readiness rule


def test_a_room_without_any_reading_is_not_shown_as_passing(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    args = argparse.Namespace(room="Dortoir", samples=2, interval=0.0, json=False, no_send=True,
                              uai="0350122T")
    code = cmd_survey(args, AgentSettings(), AgentState(tmp_path / "a"),
                      make_ctx=lambda: mac_ctx([MAC_OFF], T0))
    out = capsys.readouterr()
    assert code == 1
    assert "NO DATA — no reading gave a signal" in out.out
    assert "sample 2/2: no reading (Wi-Fi is on but not connected (disassociated))" in out.err
