"""Shared set-up for the dashboard tests: a collector app on a fresh SQLite file, with schools,
tokens, enrolled agents and reports made through the store's own functions (enrol, ingest).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from collector.app import create_app
from collector.auth.credentials import create_api_token, create_enroll_code, enroll
from collector.db.engine import create_schema, make_engine, session_factory
from collector.db.models import AgentRow
from collector.ingest.single import ingest
from collector.schools.records import upsert_school
from config.collector_settings import CollectorSettings
from config.wire import (
    BandwidthMeasurement,
    DeviceIdentity,
    DeviceMeasurement,
    EnrollRequest,
    LatencyMeasurement,
    ProbeResult,
    ProbeStatus,
    Report,
    SchoolPublic,
    WifiMeasurement,
)

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)

# Real schools from tests/fixtures/schools/annuaire-education-2023-dep035.csv (lines 2-4).
BAULON = SchoolPublic(uai="0350122T", name="Ecole primaire publique les Lucioles", commune="Baulon",
                      commune_code="35016", departement="035", academie="Rennes", school_type="Ecole",
                      pupils=143)
CARDROC = SchoolPublic(uai="0350165P", name="Ecole élémentaire publique de Cardroc", commune="Cardroc",
                       departement="035", academie="Rennes", school_type="Ecole", pupils=63)
CHAVAGNE = SchoolPublic(uai="0350192U", name="Ecole primaire publique", commune="Chavagne",
                        departement="035", academie="Rennes", school_type="Ecole", pupils=186)
# From annuaire-education-2026-dep094-ecoles-publiques.csv, line 2 (another académie).
FRESNES = SchoolPublic(uai="0940176F", name="Ecole élémentaire Robert Doisneau", commune="Fresnes",
                       departement="094", academie="Créteil", school_type="Ecole")


@dataclass
class Seeded:
    """The app and what was put in it."""

    app: FastAPI
    sessions: sessionmaker[Session]
    tokens: dict[str, str] = field(default_factory=dict)


def make_app(tmp: Path, clock: datetime | None = NOW,
             db_url: str | None = None) -> tuple[FastAPI, sessionmaker[Session]]:
    """A collector app on ``db_url`` or a new SQLite file (with a fixed clock unless ``clock`` is None)."""
    engine = make_engine(db_url or f"sqlite:///{tmp / 'dash.db'}")
    create_schema(engine)
    settings = CollectorSettings(data_dir=tmp)
    if clock is None:
        app = create_app(settings, engine=engine)
    else:
        app = create_app(settings, engine=engine, clock=lambda: clock)
    return app, session_factory(engine)


def agent_report(uai: str, room: str, host: str, instance: uuid.UUID, at: datetime, *,
                 download: float | None = None, upload: float | None = None, rtt: float | None = None,
                 signal: float | None = None, ram_gb: float | None = None) -> Report:
    """A report with the measurements asked for."""
    results = []
    if download is not None or upload is not None:
        results.append(ProbeResult(probe="bandwidth", status=ProbeStatus.ok, duration_s=20, measurement=(
            BandwidthMeasurement(server="collector", download_mbps=download, upload_mbps=upload))))
    if rtt is not None:
        results.append(ProbeResult(probe="latency", status=ProbeStatus.ok, duration_s=2, measurement=(
            LatencyMeasurement(target="collector", samples_sent=10, samples_ok=10, rtt_median_ms=rtt,
                               jitter_ms=2.0, loss_pct=0.0))))
    if signal is not None:
        results.append(ProbeResult(probe="wifi", status=ProbeStatus.ok, duration_s=1, measurement=(
            WifiMeasurement(tool="iw", connected=True, signal_dbm=signal, snr_db=signal + 95))))
    if ram_gb is not None:
        results.append(ProbeResult(probe="device", status=ProbeStatus.ok, duration_s=1, measurement=(
            DeviceMeasurement(ram_total_gb=ram_gb, cpu_cores_logical=4, disk_total_gb=256,
                              disk_free_pct=40.0, os_supported=True, disk_kind="ssd",
                              disk_is_ssd=True))))
    return Report(report_id=uuid.uuid4(), agent_version="0.1.0",
                  device=DeviceIdentity(instance_id=instance, hostname=host), school_uai=uai, room=room,
                  taken_at=at, results=results)


def seed(tmp: Path, clock: datetime | None = NOW, db_url: str | None = None) -> Seeded:
    """Four schools; Baulon fails its download floor over a week of nightly tests, has two rooms
    with Wi-Fi and a 4 GB PC; Cardroc meets the base; tokens of several roles and scopes."""
    app, sessions = make_app(tmp, clock, db_url)
    now = clock or datetime.now(UTC)
    s = Seeded(app, sessions)
    with sessions() as session:
        for school in (BAULON, CARDROC, CHAVAGNE, FRESNES):
            upsert_school(session, school, now)
        for name, role, scope in (("reader", "reader", "all"), ("tech", "technician", "all"),
                                  ("baulon", "reader", "commune:35016"),
                                  ("creteil", "reader", "academie:Créteil")):
            s.tokens[name] = create_api_token(session, role, now, scope)
        session.commit()
        agents = ((BAULON.uai, "CM1", "pc-cm1", True), (BAULON.uai, "CE2", "pc-ce2", False),
                  (CARDROC.uai, "Bureau", "pc-dir", True))
        for uai, room, host, nights in agents:
            code = create_enroll_code(session, uai, now - timedelta(days=9), timedelta(days=3))
            instance = uuid.uuid4()
            enroll(session, EnrollRequest(code=code, room=room, agent_version="0.1.0",
                                          device=DeviceIdentity(instance_id=instance, hostname=host)),
                   now - timedelta(days=8))
            session.flush()
            agent = session.scalars(select(AgentRow).where(AgentRow.instance_id == str(instance))).one()
            for day in range(7, 0, -1):
                at = now - timedelta(days=day, hours=-2)
                if uai == BAULON.uai and nights:
                    rep = agent_report(uai, room, host, instance, at, download=5.0 + day * 0.1, upload=1.5,
                                       rtt=40.0 + day, signal=-72.0, ram_gb=3.8)
                elif uai == BAULON.uai:
                    rep = agent_report(uai, room, host, instance, at, signal=-58.0 - day)
                else:
                    rep = agent_report(uai, room, host, instance, at, download=24.0, upload=6.0, rtt=20.0,
                                       ram_gb=16.0)
                ingest(session, agent, rep, at)
        session.commit()
    return s
