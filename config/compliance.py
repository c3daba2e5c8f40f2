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

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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

# French primary schools: four full days and Wednesday morning.
DEFAULT_HOURS = "mon,tue,thu,fri 08:30-16:30; wed 08:30-12:00"
DEFAULT_TIMEZONE = "Europe/Paris"
W1_WINDOW_DAYS = 7
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PART = re.compile(r"^\s*(?P<days>[a-z,\-\s]+?)\s+(?P<spans>\d.*)$")
_SPAN = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


class HoursError(ValueError):
    """Teaching hours that cannot be read; the message says which part and why."""


@dataclass(frozen=True)
class TeachingHours:
    """Weekly teaching spans (weekday 0 = Monday) in one time zone."""

    spans: dict[int, tuple[tuple[time, time], ...]]
    timezone: str = DEFAULT_TIMEZONE

    def zone(self) -> ZoneInfo:
        """The time zone as a tzinfo."""
        return ZoneInfo(self.timezone)

    def covers(self, at: datetime) -> bool:
        """Whether ``at`` (aware) falls within teaching hours, in the school's local time."""
        local = at.astimezone(self.zone())
        t = local.time().replace(tzinfo=None)
        return any(start <= t < end for start, end in self.spans.get(local.weekday(), ()))


def _days(text: str) -> list[int]:
    out: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        if "-" in part:
            a, _, b = (x.strip() for x in part.partition("-"))
            if a not in DAYS or b not in DAYS or DAYS.index(a) > DAYS.index(b):
                raise HoursError(f"{part!r} is not a range of days such as 'mon-fri'")
            out.extend(range(DAYS.index(a), DAYS.index(b) + 1))
        elif part in DAYS:
            out.append(DAYS.index(part))
        else:
            raise HoursError(f"{part!r} is not a day (one of {', '.join(DAYS)})")
    return out


def parse_hours(text: str, timezone: str = DEFAULT_TIMEZONE) -> TeachingHours:
    """``"mon,tue,thu,fri 08:30-16:30; wed 08:30-12:00"`` -> teaching spans.

    Parts are separated by ``;``; each names days (``mon``, ``mon-fri``,
    ``mon,tue``) then one or more ``HH:MM-HH:MM`` spans separated by spaces or
    commas. A day named twice gets every span given for it.
    """
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise HoursError(f"unknown time zone {timezone!r}") from None
    spans: dict[int, list[tuple[time, time]]] = defaultdict(list)
    for part in (p for p in text.lower().split(";") if p.strip()):
        m = _PART.match(part)
        if not m:
            raise HoursError(f"{part.strip()!r}: expected days then spans, e.g. 'mon-fri 08:30-16:30'")
        days = _days(m.group("days"))
        for span in re.split(r"[\s,]+", m.group("spans").strip()):
            sm = _SPAN.match(span)
            if not sm:
                raise HoursError(f"{span!r} is not a span such as 08:30-16:30")
            h1, m1, h2, m2 = (int(g) for g in sm.groups())
            if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
                raise HoursError(f"{span!r} is not a time of day")
            start, end = time(h1, m1), time.max if h2 == 24 else time(h2, m2)
            if start >= end:
                raise HoursError(f"{span!r} ends before it starts")
            for d in days:
                spans[d].append((start, end))
    if not spans:
        raise HoursError("no teaching hours given")
    return TeachingHours({d: tuple(sorted(v)) for d, v in spans.items()}, timezone)


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


def hours_label(hours: TeachingHours) -> str:
    """Teaching hours back as text, one part per group of days with the same spans."""
    by_spans: dict[tuple[tuple[time, time], ...], list[int]] = defaultdict(list)
    for day in sorted(hours.spans):
        by_spans[hours.spans[day]].append(day)
    parts = []
    for spans, days in by_spans.items():
        text = " ".join(f"{a:%H:%M}-{'24:00' if b == time.max else f'{b:%H:%M}'}" for a, b in spans)
        parts.append(f"{','.join(DAYS[d] for d in days)} {text}")
    return "; ".join(parts)
