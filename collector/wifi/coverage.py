"""Per-room Wi-Fi coverage of a school, as ``GET /api/v1/schools/{uai}/coverage`` answers it.

Every room with Wi-Fi samples in the window of the per-room signal rule (W6):
sample count, median and weakest signal, share at the threshold or better, the
same for SNR (W7), band, channel, other networks on the same channel, and each
rule's verdict for the room. The routes are in collector/api/coverage.py; the
picture is drawn by collector/wifi/coverage_svg.py.

Samples come from room surveys and from periodic Wi-Fi readings alike (both are
``wifi.signal_dbm`` / ``wifi.snr_db`` samples, see config/samples.py); verdicts
come from the one readiness function, so they always agree with the school's page.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy.orm import Session

from collector.db.models import School
from collector.db.sample_sets import school_samples
from collector.wifi.school import wifi_reports
from config.profile import Profile, Rule, Scope
from config.readiness import Sample, evaluate_rule
from config.wire import RuleOutcomeStatus, WifiMeasurement, WifiSurveyMeasurement

SIGNAL, SNR = "wifi.signal_dbm", "wifi.snr_db"


class RoomCoverage(BaseModel):
    """One room's Wi-Fi as its samples show it."""

    room: str
    samples: int
    signal_median_dbm: float | None = None
    signal_min_dbm: float | None = None
    signal_share_ok_pct: float | None = None
    snr_samples: int = 0
    snr_median_db: float | None = None
    snr_share_ok_pct: float | None = None
    ssid: str | None = None
    band: str | None = None
    channel: int | None = None
    same_channel_networks: int | None = None
    last_at: datetime | None = None
    last_survey_at: datetime | None = None
    w6: str = RuleOutcomeStatus.no_data.value
    w7: str = RuleOutcomeStatus.no_data.value


class SchoolCoverage(BaseModel):
    """A school's rooms and the figures they are judged against."""

    uai: str
    name: str
    evaluated_at: datetime
    window_days: int
    threshold_dbm: float
    snr_threshold_db: float
    share_min_pct: float | None
    rooms: list[RoomCoverage]


def room_rule(profile: Profile, metric: str) -> Rule | None:
    """The profile's per-room rule on ``metric`` (W6 for the signal, W7 for the SNR), if any."""
    return next((r for r in profile.rules if r.metric == metric and r.scope is Scope.room), None)


def _share(values: Sequence[float], threshold: float) -> float | None:
    return round(100.0 * sum(1 for v in values if v >= threshold) / len(values), 1) if values else None


def room_coverage(samples: Iterable[Sample], links: Iterable[tuple[datetime, str, object]],
                  profile: Profile, now: datetime) -> list[RoomCoverage]:
    """Rooms from their ``wifi.*`` samples and latest Wi-Fi readings (pure), with the W6/W7 verdicts.

    ``links`` are (taken_at, room, WifiMeasurement | WifiSurveyMeasurement) in time order: the
    latest of a room gives its SSID, band, channel and same-channel count.
    """
    w6, w7 = room_rule(profile, SIGNAL), room_rule(profile, SNR)
    t6 = w6.threshold if w6 else -67.0
    t7 = w7.threshold if w7 else 25.0
    pool = [s for s in samples if s.metric in (SIGNAL, SNR)]
    by_room: dict[str, dict[str, list[Sample]]] = defaultdict(lambda: defaultdict(list))
    for s in pool:
        by_room[s.room][s.metric].append(s)
    latest: dict[str, tuple[datetime, object]] = {}
    surveyed: dict[str, datetime] = {}
    for at, room, m in links:
        latest[room] = (at, m)
        if isinstance(m, WifiSurveyMeasurement):
            surveyed[room] = at
    verdicts = {}
    for key, rule in (("w6", w6), ("w7", w7)):
        if rule is not None:
            outcome = evaluate_rule(rule, pool, now)
            verdicts[key] = {e.subject: e.outcome.value for e in outcome.evidence}
    out = []
    for room in sorted(set(by_room) | set(latest)):
        sig = [s.value for s in by_room[room][SIGNAL]]
        snr = [s.value for s in by_room[room][SNR]]
        link = latest.get(room, (None, None))[1]
        band = channel = ssid = same = None
        if isinstance(link, WifiMeasurement | WifiSurveyMeasurement):
            ssid, band, channel, same = link.ssid, link.band, link.channel, link.same_channel_networks
        times = [s.taken_at for s in by_room[room][SIGNAL] + by_room[room][SNR]]
        out.append(RoomCoverage(
            room=room, samples=len(sig), signal_median_dbm=statistics.median(sig) if sig else None,
            signal_min_dbm=min(sig) if sig else None, signal_share_ok_pct=_share(sig, t6),
            snr_samples=len(snr), snr_median_db=statistics.median(snr) if snr else None,
            snr_share_ok_pct=_share(snr, t7), ssid=ssid, band=band, channel=channel,
            same_channel_networks=same, last_at=max(times) if times else None,
            last_survey_at=surveyed.get(room),
            w6=verdicts.get("w6", {}).get(room, RuleOutcomeStatus.no_data.value),
            w7=verdicts.get("w7", {}).get(room, RuleOutcomeStatus.no_data.value)))
    return out


def school_coverage(session: Session, school: School, profile: Profile, now: datetime) -> SchoolCoverage:
    """A school's per-room coverage over the W6 window."""
    w6 = room_rule(profile, SIGNAL)
    w7 = room_rule(profile, SNR)
    window = max((r.window_days for r in (w6, w7) if r is not None), default=30)
    since = now - timedelta(days=window)
    samples = school_samples(session.connection(), school.uai, since, (SIGNAL, SNR))
    links = [(r.taken_at, r.room, res.measurement) for r in wifi_reports(session, school.uai, since)
             for res in r.results if res.measurement is not None]
    return SchoolCoverage(uai=school.uai, name=school.name, evaluated_at=now, window_days=window,
                          threshold_dbm=w6.threshold if w6 else -67.0,
                          snr_threshold_db=w7.threshold if w7 else 25.0,
                          share_min_pct=w6.share_min_pct if w6 else None,
                          rooms=room_coverage(samples, links, profile, now))
