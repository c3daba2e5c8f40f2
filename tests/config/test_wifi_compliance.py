"""W1, loi Abeille: teaching hours, observations from reports, and the verdict, table by table."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

import pytest

from config.compliance import (
    DEFAULT_HOURS,
    HoursError,
    Observation,
    evaluate_w1,
    hours_label,
    observations_from_report,
    parse_hours,
)
from config.wire import DeviceIdentity, ProbeResult, ProbeStatus, Report, WifiMeasurement, WifiNetwork

PARIS = DEFAULT_HOURS
# Tuesday 24 November 2026 (winter: Paris is UTC+1); Wednesday the 25th.
TUE = datetime(2026, 11, 24, tzinfo=UTC)
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "day", "spans"), [
    ("mon-fri 08:30-16:30", 4, ((time(8, 30), time(16, 30)),)),
    ("mon,tue,thu,fri 08:30-16:30; wed 08:30-12:00", 2, ((time(8, 30), time(12, 0)),)),
    ("Mon 08:30-11:30 13:30-16:30", 0, ((time(8, 30), time(11, 30)), (time(13, 30), time(16, 30)))),
    ("sat 00:00-24:00", 5, ((time(0, 0), time.max),)),
])
def test_hours_parse(text: str, day: int, spans: tuple[tuple[time, time], ...]) -> None:
    assert parse_hours(text).spans[day] == spans


@pytest.mark.parametrize(("text", "message"), [
    ("", "no teaching hours given"),
    ("mon-fri", "expected days then spans"),
    ("lun 08:30-16:30", "'lun' is not a day"),
    ("fri-mon 08:30-16:30", "'fri-mon' is not a range of days"),
    ("mon 16:30-08:30", "ends before it starts"),
    ("mon 25:00-26:00", "is not a time of day"),
    ("mon 8h30-16h30", "is not a span"),
])
def test_bad_hours_say_why(text: str, message: str) -> None:
    with pytest.raises(HoursError, match=message):
        parse_hours(text)


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(HoursError, match="unknown time zone 'Europe/Lutece'"):
        parse_hours(PARIS, "Europe/Lutece")


def test_default_hours_read_back() -> None:
    assert hours_label(parse_hours(PARIS)) == "mon,tue,thu,fri 08:30-16:30; wed 08:30-12:00"


@pytest.mark.parametrize(("utc", "in_class"), [
    (TUE.replace(hour=9), True),  # 10:00 in Paris on a Tuesday
    (TUE.replace(hour=7, minute=29), False),  # 08:29
    (TUE.replace(hour=7, minute=30), True),  # 08:30 sharp
    (TUE.replace(hour=15, minute=30), False),  # 16:30: the end is not included
    (TUE.replace(hour=21), False),  # 22:00
    (TUE.replace(hour=23, minute=30), False),  # 00:30 on Wednesday
    (TUE.replace(hour=9) + timedelta(days=1), True),  # Wednesday 10:00
    (TUE.replace(hour=13) + timedelta(days=1), False),  # Wednesday 14:00
    (TUE.replace(hour=9) + timedelta(days=4), False),  # Saturday 10:00
    (datetime(2026, 6, 16, 14, 45, tzinfo=UTC), False),  # summer time: 16:45 in Paris
    (datetime(2026, 6, 16, 14, 15, tzinfo=UTC), True),  # 16:15 in Paris
])
def test_teaching_hours_are_local_time(utc: datetime, in_class: bool) -> None:
    assert parse_hours(PARIS).covers(utc) is in_class


def _obs(at: datetime, *heard: str, connected: str | None = None, room: str = "CM1") -> Observation:
    return Observation(taken_at=at, room=room, connected_ssid=connected,
                       heard=frozenset(heard) | ({connected} if connected else set()))


def test_school_ssid_seen_at_night_fires_and_at_ten_on_a_school_day_does_not() -> None:
    hours = parse_hours(PARIS)
    night = _obs(TUE.replace(hour=21, minute=10), "ECOLE-PEDA", "Livebox-1234")
    morning = _obs(TUE.replace(hour=9), "ECOLE-PEDA", connected="ECOLE-PEDA")
    only_morning = evaluate_w1([morning], ["ECOLE-PEDA"], hours, NOW)
    assert only_morning.outcome.value == "no_data"  # in class: no evidence either way
    assert only_morning.readings_outside_hours == 0
    both = evaluate_w1([morning, night], ["ECOLE-PEDA"], hours, NOW)
    assert both.outcome.value == "fail"
    assert [(f.ssid, f.local_date.isoformat(), f.first_seen_at.strftime("%H:%M"), f.rooms, f.connected)
            for f in both.findings] == [("ECOLE-PEDA", "2026-11-24", "22:10", ["CM1"], False)]


@pytest.mark.parametrize(("observations", "ssids", "outcome", "findings"), [
    # A night reading that hears only the neighbours' networks: the school's Wi-Fi is off.
    ([_obs(TUE.replace(hour=22), "Livebox-1234")], ["ECOLE-PEDA"], "pass", 0),
    # SSIDs are case-sensitive: "ecole-peda" is another network.
    ([_obs(TUE.replace(hour=22), "ecole-peda")], ["ECOLE-PEDA"], "pass", 0),
    # Two readings the same night and one the next: two days, two findings.
    ([_obs(TUE.replace(hour=19), "ECOLE-PEDA"), _obs(TUE.replace(hour=20), "ECOLE-PEDA", room="CP"),
      _obs(TUE.replace(hour=20) + timedelta(days=1), "ECOLE-PEDA")], ["ECOLE-PEDA"], "fail", 2),
    # Wednesday afternoon is not teaching time.
    ([_obs(TUE.replace(hour=14) + timedelta(days=1), "ECOLE-ADMIN")], ["ECOLE-PEDA", "ECOLE-ADMIN"],
     "fail", 1),
    # Older than the 7-day window: not counted.
    ([_obs(TUE.replace(hour=22) - timedelta(days=10), "ECOLE-PEDA")], ["ECOLE-PEDA"], "no_data", 0),
    # No SSIDs configured: nothing can be judged.
    ([_obs(TUE.replace(hour=22), "ECOLE-PEDA")], [], "no_data", 0),
])
def test_w1_table(observations: list[Observation], ssids: list[str], outcome: str, findings: int) -> None:
    result = evaluate_w1(observations, ssids, parse_hours(PARIS), NOW)
    assert (result.outcome.value, len(result.findings)) == (outcome, findings)
    assert result.rule_id == "W1" and result.source == "W1"


def test_grouped_finding_spans_the_evening() -> None:
    result = evaluate_w1([_obs(TUE.replace(hour=19), "ECOLE-PEDA"),
                          _obs(TUE.replace(hour=20), "ECOLE-PEDA", connected="ECOLE-PEDA", room="CP")],
                         ["ECOLE-PEDA"], parse_hours(PARIS), NOW)
    (f,) = result.findings
    assert (f.first_seen_at.strftime("%H:%M"), f.last_seen_at.strftime("%H:%M"), f.readings) \
        == ("20:00", "21:00", 2)
    assert f.rooms == ["CM1", "CP"] and f.connected is True


def test_not_configured_says_how_to_configure() -> None:
    result = evaluate_w1([], [], None, NOW)
    assert result.outcome.value == "no_data" and "socle-collector school wifi" in (result.note or "")


def _report(status: ProbeStatus, m: WifiMeasurement) -> Report:
    return Report(report_id=uuid.uuid4(), agent_version="0.1.0",
                  device=DeviceIdentity(instance_id=uuid.uuid4(), hostname="pc"), school_uai="0350122T",
                  room="CM1", taken_at=TUE.replace(hour=22),
                  results=[ProbeResult(probe="wifi", status=status, duration_s=1.0, measurement=m)])


def test_observations_come_from_the_link_and_the_scan_of_any_wifi_reading() -> None:
    nbrs = [WifiNetwork(ssid="ECOLE-PEDA", channel=6), WifiNetwork(ssid="", channel=1)]
    ok = _report(ProbeStatus.ok, WifiMeasurement(tool="iw", ssid="ECOLE-ADMIN", connected=True,
                                                 neighbours=nbrs))
    (obs,) = observations_from_report(ok)
    assert obs.heard == {"ECOLE-PEDA", "ECOLE-ADMIN"} and obs.connected_ssid == "ECOLE-ADMIN"
    # Not connected, but the scan still heard the school's network.
    off = _report(ProbeStatus.unavailable, WifiMeasurement(tool="netsh", connected=False, neighbours=nbrs))
    (obs,) = observations_from_report(off)
    assert obs.heard == {"ECOLE-PEDA"} and obs.connected_ssid is None
    # Nothing read at all (no card): no observation, so no evidence of compliance either.
    assert list(observations_from_report(_report(ProbeStatus.unavailable, WifiMeasurement(tool="iw")))) == []
