"""W1, loi Abeille: a school's Wi-Fi must be off when it is not used for teaching.

Loi n° 2015-136, art. 7-II: in primary schools, Wi-Fi access points are switched
off when no digital teaching activity uses them. Socle checks what it can see:
every Wi-Fi reading an agent makes (the network it is connected to and the
networks its scan hears) is an observation; one taken outside the school's
teaching hours that hears one of the school's own SSIDs is a finding. This is a
legal item, reported apart from the readiness level.

Everything here is pure: observations, SSIDs and hours in, an outcome out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from config.hours import DAYS, DEFAULT_TIMEZONE, HoursError, TeachingHours, hours_label, parse_hours
from config.wire import (
    ComplianceFinding,
    ComplianceOutcome,
    ProbeResult,
    ProbeStatus,
    Report,
    RuleOutcomeStatus,
    WifiMeasurement,
    WifiSurveyMeasurement,
)

__all__ = ["DAYS", "DEFAULT_HOURS", "DEFAULT_TIMEZONE", "HoursError", "Observation", "TeachingHours",
           "evaluate_w1", "hours_label", "observations_from_report", "observations_from_results",
           "parse_hours"]

# French primary schools: four full days and Wednesday morning. W1 asks whether the Wi-Fi is off outside
# teaching hours, so the default leans wide: a reading on a Wednesday morning is not held against a school.
DEFAULT_HOURS = "mon,tue,thu,fri 08:30-16:30; wed 08:30-12:00"
W1_WINDOW_DAYS = 7


@dataclass(frozen=True)
class Observation:
    """One Wi-Fi reading: when, where, the SSID connected to and every SSID heard."""

    taken_at: datetime
    room: str
    connected_ssid: str | None
    heard: frozenset[str]


def observations_from_report(report: Report) -> Iterator[Observation]:
    """The Wi-Fi readings of a report (periodic ``wifi`` results and room surveys)."""
    return observations_from_results(report.results, report.taken_at, report.room)


def observations_from_results(results: Iterable[ProbeResult], taken_at: datetime,
                              room: str) -> Iterator[Observation]:
    """The Wi-Fi readings among one report's results, taken at ``taken_at`` in ``room``."""
    for result in results:
        m = result.measurement
        if not isinstance(m, WifiMeasurement | WifiSurveyMeasurement):
            continue
        # An unavailable reading (not connected) still carries the scan it heard.
        if result.status is ProbeStatus.error:
            continue
        connected = m.ssid if m.ssid and (isinstance(m, WifiSurveyMeasurement) or m.connected is not False) \
            else None
        heard = {n.ssid for n in m.neighbours if n.ssid}
        if connected:
            heard.add(connected)
        if not heard and result.status is not ProbeStatus.ok:
            continue  # nothing was read at all: no evidence either way
        yield Observation(taken_at=taken_at, room=room, connected_ssid=connected,
                          heard=frozenset(heard))


def evaluate_w1(observations: Iterable[Observation], school_ssids: Iterable[str],
                hours: TeachingHours | None, now: datetime,
                window_days: int = W1_WINDOW_DAYS) -> ComplianceOutcome:
    """Judge W1: a school SSID heard outside teaching hours fails; readings there without it pass.

    SSIDs match exactly (they are case-sensitive). Without the school's SSIDs
    nothing can be judged (no data, with how to set them). Readings outside the
    window, or inside teaching hours, are not evidence either way. School
    holidays are not known here: a reading in the holidays counts as outside
    teaching hours only when it falls outside the weekly hours.
    """
    ssids = sorted({s for s in school_ssids if s})
    base = {"rule_id": "W1", "title": "Wi-Fi switched off outside teaching hours (loi Abeille)",
            "source": "W1", "school_ssids": ssids, "window_days": window_days}
    if not ssids or hours is None:
        return ComplianceOutcome(
            **base, outcome=RuleOutcomeStatus.no_data, teaching_hours=None, timezone=None,
            readings_outside_hours=0,
            note="the school's own SSIDs are not configured: set them with 'socle-collector school wifi'")
    wanted = set(ssids)
    since = now.timestamp() - window_days * 86400
    outside = 0
    groups: dict[tuple[str, date], list[tuple[datetime, Observation]]] = defaultdict(list)
    zone = hours.zone()
    for obs in observations:
        if not since <= obs.taken_at.timestamp() <= now.timestamp() + 600 or hours.covers(obs.taken_at):
            continue
        outside += 1
        local = obs.taken_at.astimezone(zone)
        for ssid in sorted(obs.heard & wanted):
            groups[(ssid, local.date())].append((local, obs))
    findings = []
    for (ssid, day), seen in sorted(groups.items()):
        seen.sort(key=lambda x: x[0])
        findings.append(ComplianceFinding(
            ssid=ssid, local_date=day, first_seen_at=seen[0][0], last_seen_at=seen[-1][0],
            readings=len(seen), rooms=sorted({o.room for _, o in seen}),
            connected=any(o.connected_ssid == ssid for _, o in seen)))
    label = hours_label(hours)
    if findings:
        outcome, note = RuleOutcomeStatus.failed, (
            f"{len(findings)} day(s) with a school SSID on air outside teaching hours ({label})")
    elif outside:
        outcome, note = RuleOutcomeStatus.passed, (
            f"{outside} reading(s) outside teaching hours heard none of the school's SSIDs")
    else:
        outcome, note = RuleOutcomeStatus.no_data, (
            f"no Wi-Fi reading outside teaching hours in the last {window_days} days: "
            "schedule the agent's periodic runs out of hours to check")
    return ComplianceOutcome(**base, outcome=outcome, teaching_hours=label, timezone=hours.timezone,
                             readings_outside_hours=outside, findings=findings, note=note)
