"""The purge: reports past their retention reduced to daily aggregates, neighbours' network names dropped.

Two cut-offs, both from the collector's settings (config/collector_settings.py, ``retention``):

- **Reports** taken before ``report_days`` ago (whole UTC days) are deleted with their
  sample sets, after their samples of the metrics the rules and the school page's charts
  read are reduced, per school, UTC day, metric and room, to a count, sum, median,
  minimum and maximum (``daily_aggregates``). The cut-off is refused when it would
  reach into a rule's window or the charts' 30 days: the verdicts and the page are then
  what they were.
- **Neighbours' networks** heard in Wi-Fi scans (``neighbours`` of a ``wifi`` result or survey)
  lose their SSID and BSSID in the reports taken before ``neighbour_networks_days`` ago,
  once the loi Abeille check (W1, its 7 days) no longer reads them. The school's own
  SSIDs (``socle-collector school wifi``) and the network a machine is connected to stay,
  and so do the radio figures (channel, signal) that coverage and W8/W11 read.

It works school by school, one transaction each, through the index of reports by school
and time; ``dry_run`` counts without writing. The names are erased in a band of reports:
from where the last purge stopped (``purge_state``), less :data:`LATE` for reports that
came a little late, to the cut-off; ``everything`` (``purge --all``, and the first purge)
reads every report the retention keeps, for those delivered later than that.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, select

from collector.db.engine import as_utc
from collector.db.models import DailyAggregate, PurgeState, ReportRow, SampleSetRow, School, SchoolWifi
from collector.db.sample_sets import READ_COLUMNS, expand, layouts
from collector.errors import StoreError
from config.collector_settings import RetentionSettings
from config.profile import Profile

# The school page's charts (collector/dashboard/school.py, CHART_METRICS and SIGNAL) and their span.
CHARTED = ("bandwidth.download_mbps", "bandwidth.upload_mbps", "latency.rtt_median_ms", "wifi.signal_dbm")
CHART_DAYS = 30
W1_DAYS = 7  # config/compliance.py, W1_WINDOW_DAYS
LATE = timedelta(days=2)  # a report delivered up to this late after the last purge's cut-off is still read
NAMES_DONE = "neighbour_names_before"  # purge_state: reports taken before this have lost their names
_R: Table = ReportRow.__table__  # type: ignore[assignment]
_S: Table = SampleSetRow.__table__  # type: ignore[assignment]
_D: Table = DailyAggregate.__table__  # type: ignore[assignment]
_P: Table = PurgeState.__table__  # type: ignore[assignment]


@dataclass
class PurgeCounts:
    """What a purge removed, or would remove (a dry run)."""

    schools: int = 0
    reports_deleted: int = 0
    sample_sets_deleted: int = 0
    daily_rows: int = 0  # daily aggregates written or merged
    reports_scrubbed: int = 0  # reports whose neighbours lost their names
    neighbours_scrubbed: int = 0
    report_cutoff: datetime | None = None
    neighbour_cutoff: datetime | None = None


def _midnight(at: datetime) -> datetime:
    return datetime.combine(at.date(), time(0), tzinfo=at.tzinfo)


def cutoffs(retention: RetentionSettings, profile: Profile, now: datetime) -> tuple[datetime, datetime]:
    """The two cut-offs (reports, neighbours' names), whole UTC days; a retention too short is a
    StoreError naming what needs longer."""
    longest = max(r.window_days for r in profile.rules)
    needed = max(longest, CHART_DAYS) + 1  # +1: the cut-off is a midnight, a day's samples stay whole
    if retention.report_days < needed:
        raise StoreError(422, f"retention.report_days = {retention.report_days}: at least {needed} "
                         f"(the longest rule window is {longest} days, the charts show {CHART_DAYS})")
    # a midnight at least a day before the judges' horizon (now - window - SURVEY_LEAD)
    report = _midnight(now - timedelta(days=retention.report_days))
    neighbours = _midnight(now - timedelta(days=max(retention.neighbour_networks_days, W1_DAYS)))
    return report, neighbours


# (UTC day, metric, room) -> count, total, median, min, max
Reduced = dict[tuple[date, str, str], tuple[Any, ...]]


def reduce(samples: Iterable[tuple[str, str, datetime, float]]) -> Reduced:
    """(metric, room, time, value) -> per (UTC day, metric, room): count, total, median, min, max."""
    groups: dict[tuple[date, str, str], list[float]] = defaultdict(list)
    for metric, room, at, value in samples:
        groups[(at.date(), metric, room)].append(value)
    return {key: (len(v), float(sum(v)), float(statistics.median(v)), min(v), max(v))
            for key, v in groups.items()}


def scrub(payload: dict[str, Any], own: set[str]) -> int:
    """Drop the SSID and BSSID of every neighbour not named as one of the school's own SSIDs, in place;
    how many lost a name."""
    dropped = 0
    for result in payload.get("results") or ():
        m = result.get("measurement") if isinstance(result, dict) else None
        if not isinstance(m, dict) or m.get("kind") not in ("wifi", "wifi_survey"):
            continue
        for n in m.get("neighbours") or ():
            if isinstance(n, dict) and (n.get("ssid") or n.get("bssid")) and n.get("ssid") not in own:
                n["ssid"] = n["bssid"] = None
                dropped += 1
    return dropped


def _merge(conn: Connection, uai: str, rows: Reduced) -> None:
    """Write a school's daily aggregates; a day already reduced (a report that came late) adds its
    count, total, minimum and maximum, and keeps the median it was reduced with."""
    if not rows:
        return
    days = {k[0] for k in rows}
    have = {(r.day, r.metric, r.room): r for r in conn.execute(
        select(_D).where(_D.c.school_uai == uai, _D.c.day.in_(days)))}
    for (day, metric, room), (count, total, median, low, high) in rows.items():
        old = have.get((day, metric, room))
        if old is None:
            conn.execute(_D.insert().values(school_uai=uai, day=day, metric=metric, room=room, count=count,
                                            total=total, median=median, min=low, max=high))
        else:
            conn.execute(_D.update().where(_D.c.school_uai == uai, _D.c.day == day, _D.c.metric == metric,
                                           _D.c.room == room)
                         .values(count=old.count + count, total=old.total + total, min=min(old.min, low),
                                 max=max(old.max, high)))


def _school(conn: Connection, uai: str, metrics: frozenset[str], report_cut: datetime,
            names_from: datetime, neighbour_cut: datetime, dry_run: bool, counts: PurgeCounts) -> None:
    old = (_R.c.school_uai == uai) & (_R.c.taken_at < report_cut)
    ids = [r for (r,) in conn.execute(select(_R.c.report_id).where(old))]
    if ids:
        sets = conn.execute(select(*READ_COLUMNS).join(_R, _R.c.report_id == _S.c.report_id)
                            .where(old)).all()
        names = layouts(conn, {s[3] for s in sets})
        rows = reduce((x.metric, x.room, x.taken_at, x.value) for s in sets
                      for x in expand(s, names.get(s[3], ()), metrics))
        counts.reports_deleted += len(ids)
        counts.sample_sets_deleted += len(sets)
        counts.daily_rows += len(rows)
        if not dry_run:
            _merge(conn, uai, rows)
            for i in range(0, len(ids), 500):
                conn.execute(delete(_S).where(_S.c.report_id.in_(ids[i : i + 500])))
                conn.execute(delete(_R).where(_R.c.report_id.in_(ids[i : i + 500])))
    own_row = conn.execute(select(SchoolWifi.ssids).where(SchoolWifi.school_uai == uai)).scalar()
    own = set(own_row or ())
    band = (_R.c.school_uai == uai) & (_R.c.taken_at < neighbour_cut) & (
        _R.c.taken_at >= max(report_cut, names_from))
    for report_id, payload in conn.execute(select(_R.c.report_id, _R.c.payload).where(band)).all():
        if not isinstance(payload, dict):
            continue
        dropped = scrub(payload, own)
        if dropped:
            counts.reports_scrubbed += 1
            counts.neighbours_scrubbed += dropped
            if not dry_run:
                conn.execute(_R.update().where(_R.c.report_id == report_id).values(payload=payload))


def purge(engine: Engine, retention: RetentionSettings, profile: Profile, now: datetime,
          dry_run: bool = False, everything: bool = False) -> PurgeCounts:
    """Apply the retention to every school, one transaction per school; the counts of what went
    (``everything``: look for neighbours' names in every report kept, not only those aged since)."""
    report_cut, neighbour_cut = cutoffs(retention, profile, now)
    metrics = frozenset({r.metric for r in profile.rules} | set(CHARTED))
    counts = PurgeCounts(report_cutoff=report_cut, neighbour_cutoff=neighbour_cut)
    with engine.connect() as conn:
        uais = [u for (u,) in conn.execute(select(School.uai).order_by(School.uai))]
        done = conn.execute(select(PurgeState.at).where(PurgeState.name == NAMES_DONE)).scalar()
    names_from = report_cut if everything or done is None else as_utc(done) - LATE
    for uai in uais:
        with engine.begin() as conn:
            _school(conn, uai, metrics, report_cut, names_from, neighbour_cut, dry_run, counts)
        counts.schools += 1
    if not dry_run:
        with engine.begin() as conn:
            conn.execute(delete(PurgeState).where(PurgeState.name == NAMES_DONE))
            conn.execute(_P.insert().values(name=NAMES_DONE, at=neighbour_cut))
    return counts



def describe(counts: PurgeCounts, dry_run: bool) -> str:
    """The purge's counts as lines for the terminal."""
    would = "would be " if dry_run else ""
    cut = counts.report_cutoff.isoformat(timespec="minutes") if counts.report_cutoff else "-"
    names = counts.neighbour_cutoff.isoformat(timespec="minutes") if counts.neighbour_cutoff else "-"
    return "\n".join([
        f"schools looked at: {counts.schools}",
        f"reports taken before {cut}: {counts.reports_deleted} {would}deleted, "
        f"with {counts.sample_sets_deleted} sample set(s)",
        f"daily aggregates {would}written or merged: {counts.daily_rows}",
        f"reports taken before {names} whose neighbours' SSIDs/BSSIDs {would}dropped: "
        f"{counts.reports_scrubbed} ({counts.neighbours_scrubbed} network(s))",
    ])
