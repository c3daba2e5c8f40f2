"""Each agent's newest displays reading, kept on its row by ingest (collector/ingest/statements.py) and filled
by revision 0022 for reports stored before it; the equipment facts read it there (both databases)."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from typing import Any

from alembic import command
from sqlalchemy import select, text

from collector.auth.tokens import hash_secret
from collector.db.engine import as_utc, make_engine
from collector.db.migrations import alembic_config, upgrade
from collector.db.models import AgentRow, School
from collector.equipment.facts import school_facts
from collector.ingest.group import Job, prepare
from collector.ingest.writer import IngestWriter
from config.wire import ProbeResult, ProbeStatus, Report
from probes.displays.linux import DrmConnector, parse_drm
from probes.displays.reading import measurement
from tests.collector_db import NOW, Harness, report_body
from tests.conftest import FIXTURES

EDID = FIXTURES / "displays" / "edid" / "linuxhw"
PROJECTOR = ("HDMI-A-1", "SECA514-46FD547BEEF9")  # recorded EDIDs (tests/fixtures/displays/SOURCES.md)
MONITOR = ("DP-1", "DELA0B8-00665EA56836")


def _displays(*connectors: tuple[str, str], status: ProbeStatus = ProbeStatus.ok) -> dict[str, Any]:
    drm = [DrmConnector(name, f"/sys/class/drm/card0-{name}/edid", "connected",
                        (EDID / f"{blob}.bin").read_bytes()) for name, blob in connectors]
    result = ProbeResult(probe="displays", status=status, duration_s=0.01,
                         measurement=measurement("sysfs", parse_drm(drm)))
    return result.model_dump(mode="json")


def _body(at: datetime, *results: dict[str, Any]) -> dict[str, Any]:
    return report_body(taken_at=at, results=list(results))


def _group(writer: IngestWriter, token: str, *bodies: dict[str, Any]) -> list[Any]:
    """These reports in one request, so one group of the writer; their statuses."""
    reports = [prepare(Report.model_validate(b), NOW) for b in bodies]
    job = Job(token_hash=hash_secret(token), incarnation=None, now=NOW, reports=reports)
    return asyncio.run(writer.run(job)).statuses


def _kept(h: Harness) -> tuple[datetime | None, list[list[str]] | None]:
    with h.sessions() as s:
        agent = s.scalars(select(AgentRow)).one()
        return (None if agent.displays_at is None else as_utc(agent.displays_at),
                None if agent.displays is None else json.loads(agent.displays))


def test_the_newest_reading_is_kept_whatever_order_the_reports_come_in(harness: Harness) -> None:
    token = harness.enroll()
    writer = IngestWriter(harness.engine, idle_s=0.5)
    t1, t2, t3, t4, t5 = (NOW - timedelta(hours=h) for h in (9, 8, 7, 6, 5))
    try:
        assert _group(writer, token, _body(t2, _displays(PROJECTOR))) == ["stored"]
        first = _kept(harness)
        assert first[0] == t2 and first[1] is not None
        assert [kind for kind, _ in first[1]] == ["projector"]
        # Older, with no displays result, with a failed one: none of them replaces it.
        failed = {"probe": "displays", "status": "unavailable", "duration_s": 0.0, "reason": "no DRM"}
        assert _group(writer, token, _body(t1, _displays(MONITOR)), _body(t3, failed),
                      _body(t3 + timedelta(minutes=1))) == ["stored"] * 3
        assert _kept(harness) == first
        # Two newer in one group: the newest of the two.
        assert _group(writer, token, _body(t5, _displays(MONITOR)),
                      _body(t4, _displays(PROJECTOR, MONITOR))) == ["stored"] * 2
        at, displays = _kept(harness)
        assert at == t5 and displays is not None and [kind for kind, _ in displays] == ["monitor"]
    finally:
        writer.stop()
    with harness.sessions() as s:
        school = s.get(School, "0350122T")
        assert school is not None
        machine, = school_facts(s, [school], NOW)["0350122T"].machines
        assert machine.displays_at == t5 and [d.kind for d in machine.displays] == ["monitor"]
        # A reading older than the facts' window says nothing any more.
        later = school_facts(s, [school], t5 + timedelta(days=31))["0350122T"].machines
        assert later == ()  # the machine itself has not reported since: left out too


def test_revision_0022_fills_the_reading_from_the_reports_stored_before(db_url: str) -> None:
    eng = make_engine(db_url)
    with eng.connect() as conn:
        command.upgrade(alembic_config(conn), "0021")
        conn.commit()
    at = NOW - timedelta(hours=7)
    with eng.begin() as conn:
        conn.execute(text("INSERT INTO schools (uai, name, commune, departement, academie, created_at) "
                          "VALUES ('0350122T', 'Les Lucioles', 'Baulon', '035', 'Rennes', :t)"), {"t": NOW})
        for agent in ("a1", "a2"):
            conn.execute(text("INSERT INTO agents (agent_id, school_uai, room, token_hash, instance_id, "
                              "hostname, agent_version, enrolled_at, last_seen_at) VALUES (:a, '0350122T', "
                              "'CM1', :a, :a, :a, '0.1.0', :t, :t)"), {"a": agent, "t": at})
        # a1: its newest report has no reading, the one before has; a2: none at all.
        for rid, agent, when, results in (("r1", "a1", at - timedelta(hours=1), [_displays(PROJECTOR)]),
                                          ("r2", "a1", at, []), ("r3", "a2", at, [])):
            conn.execute(text("INSERT INTO reports (report_id, agent_id, school_uai, room, taken_at, "
                              "received_at, payload) VALUES (:r, :a, '0350122T', 'CM1', :t, :t, :p)"),
                         {"r": rid, "a": agent, "t": when, "p": json.dumps(_body(when, *results))})
    upgrade(eng)
    with eng.connect() as conn:
        rows = {a: (t, d) for a, t, d in conn.execute(select(AgentRow.agent_id, AgentRow.displays_at,
                                                             AgentRow.displays))}
    eng.dispose()
    assert rows["a2"] == (None, None)
    when, displays = rows["a1"]
    assert when is not None and as_utc(when) == at - timedelta(hours=1)
    assert [kind for kind, _ in json.loads(displays or "[]")] == ["projector"]
