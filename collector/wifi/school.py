"""A school's own Wi-Fi on the collector: its SSIDs and teaching hours, the Wi-Fi readings
of its reports, and the loi Abeille check (W1) built from them.

The W1 judgement itself is the pure :func:`config.compliance.evaluate_w1`; this
module only fetches what it needs: the school's settings (table ``school_wifi``)
and the Wi-Fi results of the school's recent reports.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from collector.db.engine import as_utc
from collector.db.models import ReportRow, School, SchoolWifi
from collector.errors import StoreError
from config.compliance import (
    DEFAULT_HOURS,
    DEFAULT_TIMEZONE,
    W1_WINDOW_DAYS,
    HoursError,
    TeachingHours,
    evaluate_w1,
    hours_label,
    observations_from_results,
    parse_hours,
)
from config.wire import ComplianceOutcome, ProbeResult

log = logging.getLogger("socle.collector.wifi")
WIFI_KINDS = ("wifi", "wifi_survey")


def set_school_wifi(session: Session, school: School, ssids: Iterable[str], hours: str | None,
                    timezone: str | None, now: datetime) -> SchoolWifi:
    """Record a school's SSIDs (replacing them) and, when given, its teaching hours and time zone."""
    names = sorted({s for s in ssids if s})
    if any(len(s.encode("utf-8")) > 32 for s in names):
        raise StoreError(422, "an SSID is at most 32 bytes long")
    row = session.get(SchoolWifi, school.uai)
    text = hours or (row.teaching_hours if row else DEFAULT_HOURS)
    zone = timezone or (row.timezone if row else DEFAULT_TIMEZONE)
    try:
        parsed = parse_hours(text, zone)
    except HoursError as exc:
        raise StoreError(422, f"teaching hours: {exc}") from None
    if row is None:
        row = SchoolWifi(school_uai=school.uai, ssids=names, teaching_hours=hours_label(parsed),
                         timezone=zone, updated_at=now)
        session.add(row)
    else:
        row.ssids, row.teaching_hours, row.timezone, row.updated_at = names, hours_label(parsed), zone, now
    return row


def school_hours(row: SchoolWifi | None) -> TeachingHours | None:
    """The school's teaching hours, or None when it has no Wi-Fi settings (or they no longer parse)."""
    if row is None:
        return None
    try:
        return parse_hours(row.teaching_hours, row.timezone)
    except HoursError as exc:
        log.warning("school %s: stored teaching hours unreadable (%s)", row.school_uai, exc)
        return None


def _wifi_results(payload: dict[str, Any]) -> list[ProbeResult]:
    out = []
    for item in payload.get("results") or []:
        m = item.get("measurement") if isinstance(item, dict) else None
        if isinstance(m, dict) and m.get("kind") in WIFI_KINDS:
            try:
                out.append(ProbeResult.model_validate(item))
            except ValidationError:
                log.info("report %s: a Wi-Fi result no longer validates; skipped", payload.get("report_id"))
    return out


@dataclass(frozen=True)
class WifiReport:
    """The Wi-Fi results of one stored report, with where and when it was taken."""

    taken_at: datetime
    room: str
    results: list[ProbeResult]


def wifi_query(uai: str, since: datetime) -> Select[tuple[dict[str, Any], str, datetime]]:
    """The school's reports since ``since``, oldest first (ix_reports_school_time: in its order)."""
    return (select(ReportRow.payload, ReportRow.room, ReportRow.taken_at)
            .where(ReportRow.school_uai == uai, ReportRow.taken_at >= since).order_by(ReportRow.taken_at))


def wifi_reports(session: Session, uai: str, since: datetime) -> Iterator[WifiReport]:
    """The school's reports since ``since`` that hold a Wi-Fi reading, with only those results.

    Reports are read whole from their stored payload: fine for a school's few
    agents over a week or a month (see docs/wifi-survey.md, limits).
    """
    for payload, room, taken_at in session.execute(wifi_query(uai, since)):
        results = _wifi_results(payload or {})
        if results:
            yield WifiReport(as_utc(taken_at), room, results)


def school_compliance(session: Session, school: School, now: datetime) -> list[ComplianceOutcome]:
    """The school's legal compliance items (today: W1, loi Abeille)."""
    row = session.get(SchoolWifi, school.uai)
    since = now - timedelta(days=W1_WINDOW_DAYS)
    observations = (obs for r in wifi_reports(session, school.uai, since)
                    for obs in observations_from_results(r.results, r.taken_at, r.room))
    return [evaluate_w1(observations, row.ssids if row else [], school_hours(row), now)]
