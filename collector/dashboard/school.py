"""What the school page shows: verdict, rooms, devices, agents, charts and the internet contract, read
from the store."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from markupsafe import Markup
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from collector.db.engine import as_utc
from collector.db.models import AgentRow, ReportRow, School, SchoolContract
from collector.db.sample_sets import school_samples
from collector.equipment.school import school_equipment
from collector.ingest.clock import OFF_BY
from collector.judge.history import Timeline, timeline
from collector.judge.school import evaluate_school
from config.equipment import EquipmentVerdict
from config.profile import Profile
from config.readiness import Evaluation
from config.wire import Evidence

from .charts import daily_medians, line_chart
from .contract import ContractFigures, from_evaluation
from .uptime import UptimeFigures
from .uptime import from_evaluation as uptime_of

CHART_DAYS = 30
DEVICE_METRICS = ("device.ram_total_gb", "device.disk_total_gb", "device.disk_free_pct",
                  "device.cpu_cores_logical", "device.os_supported", "device.battery_health_pct")
CHART_METRICS = {"download": "bandwidth.download_mbps", "upload": "bandwidth.upload_mbps",
                 "latency": "latency.rtt_median_ms"}
SIGNAL = "wifi.signal_dbm"


@dataclass
class Line:
    """One row of the rooms or devices table: its subject, figures and per-rule evidence."""

    subject: str
    figures: dict[str, float] = field(default_factory=dict)
    evidence: dict[str, Evidence] = field(default_factory=dict)


@dataclass
class AgentLine:
    """One enrolled agent as the page shows it."""

    hostname: str
    room: str
    version: str
    last_seen_at: datetime | None
    silent: bool
    spool_depth: int | None
    dropped: int | None
    clock_offset_s: float | None = None  # the collector's clock minus the machine's, when it was off


@dataclass
class SchoolView:
    """Everything the school page and the printed report show."""

    school: School
    evaluation: Evaluation
    rooms: list[Line]
    devices: list[Line]
    agents: list[AgentLine]
    charts: dict[str, Markup]
    room_rules: list[str]
    device_rules: list[str]
    contract: ContractFigures | None = None
    timeline: Timeline | None = None  # since when, and the verdict's changes (None: never judged)
    equipment: EquipmentVerdict | None = None
    uptime: UptimeFigures | None = None


def _by_subject(evaluation: Evaluation, scope: str) -> tuple[list[str], dict[str, dict[str, Evidence]]]:
    rules: list[str] = []
    out: dict[str, dict[str, Evidence]] = defaultdict(dict)
    for o in evaluation.outcomes:
        if o.scope != scope:
            continue
        rules.append(o.rule_id)
        for e in o.evidence:
            out[e.subject][o.rule_id] = e
    return rules, out


def latest_payload(uai: str, agent_id: str) -> Select[tuple[dict[str, Any]]]:
    """The payload of an agent's latest report: the school's reports newest first, through
    ix_reports_school_time (school, time taken, agent)."""
    return (select(ReportRow.payload).where(ReportRow.school_uai == uai, ReportRow.agent_id == agent_id)
            .order_by(ReportRow.taken_at.desc()).limit(1))


def _agents(session: Session, uai: str, profile: Profile, now: datetime) -> list[AgentLine]:
    cutoff = now - timedelta(days=profile.profile.silent_after_days)
    out = []
    for a in session.scalars(select(AgentRow).where(AgentRow.school_uai == uai, AgentRow.revoked_at.is_(None))
                             .order_by(AgentRow.room, AgentRow.hostname)):
        seen = as_utc(a.last_seen_at) if a.last_seen_at else None
        payload = session.scalar(latest_payload(uai, a.agent_id))
        spool: dict[str, Any] | None = (payload or {}).get("spool") if payload else None
        out.append(AgentLine(hostname=a.hostname, room=a.room, version=a.agent_version, last_seen_at=seen,
                             silent=(seen or as_utc(a.enrolled_at)) < cutoff,
                             spool_depth=spool.get("depth") if spool else None,
                             dropped=spool.get("dropped_total") if spool else None,
                             clock_offset_s=_clock_off(payload)))
    return out


def _clock_off(payload: dict[str, Any] | None) -> float | None:
    """How far the machine's clock was from the collector's in its latest report, when further than the
    judges allow (collector/ingest/clock.py placed that report's samples where they belong)."""
    for result in (payload or {}).get("results") or ():
        m = result.get("measurement") if isinstance(result, dict) else None
        offset = m.get("clock_offset_ms") if isinstance(m, dict) and m.get("kind") == "device" else None
        if isinstance(offset, int | float) and abs(offset) > OFF_BY.total_seconds() * 1000:
            return round(offset / 1000.0)
    return None


def _threshold(evaluation: Evaluation, metric: str) -> float | None:
    """The threshold of the gating (floor/base) rule on ``metric``, else any rule's."""
    rules = [o for o in evaluation.outcomes if o.metric == metric]
    rules.sort(key=lambda o: {"floor": 1, "base": 0}.get(o.level, 2))
    return rules[0].threshold if rules else None


def school_view(session: Session, school: School, profile: Profile, now: datetime,
                t: Any, lang: str = "fr") -> SchoolView:
    """Gather the school page's data (``t`` translates chart titles; figures written as ``lang`` does)."""
    ev = evaluate_school(session, school, profile, now)
    since = now - timedelta(days=CHART_DAYS)
    wanted = (*CHART_METRICS.values(), SIGNAL, *DEVICE_METRICS)
    rows = [(s.metric, s.value, s.taken_at, s.room, s.device)
            for s in school_samples(session.connection(), school.uai, since, wanted)]

    room_rules, room_ev = _by_subject(ev, "room")
    device_rules, device_ev = _by_subject(ev, "device")
    signal: dict[str, list[float]] = defaultdict(list)
    download: dict[str, list[float]] = defaultdict(list)
    latest: dict[str, dict[str, float]] = defaultdict(dict)
    for metric, value, _at, room, device in rows:
        if metric == SIGNAL:
            signal[room].append(value)
        elif metric == CHART_METRICS["download"]:
            download[room].append(value)
        elif metric in DEVICE_METRICS:
            latest[device][metric] = value  # rows come oldest first: the last one wins
    agents = _agents(session, school.uai, profile, now)
    room_names = sorted(set(signal) | set(download) | set(room_ev) | {a.room for a in agents})
    rooms = []
    for r in room_names:
        figures = {}
        if signal.get(r):
            figures["signal_median_dbm"] = float(statistics.median(signal[r]))
        if download.get(r):
            figures["download_median_mbps"] = float(statistics.median(download[r]))
        rooms.append(Line(r, figures, room_ev.get(r, {})))
    rooms.sort(key=lambda r: not (r.figures or r.evidence))  # measured rooms first
    devices = [Line(d, latest.get(d, {}), device_ev.get(d, {}))
               for d in sorted(set(latest) | set(device_ev))]

    start = (now - timedelta(days=CHART_DAYS - 1)).date()
    charts = {}
    for key, metric in CHART_METRICS.items():
        series = daily_medians((key, as_utc(at), v) for m, v, at, _r, _d in rows if m == metric)
        charts[key] = line_chart(series, title=t(f"chart.{key}"), start=start, days=CHART_DAYS,
                                 empty=t("chart.empty"), threshold=_threshold(ev, metric),
                                 threshold_label=t("chart.threshold"), lang=lang)
    series = daily_medians((r, as_utc(at), v) for m, v, at, r, _d in rows if m == SIGNAL)
    charts["signal"] = line_chart(series, title=t("chart.signal"), start=start, days=CHART_DAYS,
                                  empty=t("chart.empty"), threshold=_threshold(ev, SIGNAL),
                                  threshold_label=t("chart.threshold"), floor=None, lang=lang)
    return SchoolView(school=school, evaluation=ev, rooms=rooms, devices=devices, agents=agents,
                      charts=charts, room_rules=room_rules, device_rules=device_rules,
                      contract=from_evaluation(session.get(SchoolContract, school.uai), ev),
                      timeline=timeline(session.connection(), school.uai),
                      equipment=school_equipment(session, school, profile, now),
                      uptime=uptime_of(ev, {r.id: r.min_samples for r in profile.rules}))
