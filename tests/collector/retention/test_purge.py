"""The purge on SQLite and PostgreSQL: it removes what it says, and the verdicts, the charts' month and the
loi Abeille check are what they were."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from collector.cli.main import main
from collector.db.models import DailyAggregate, ReportRow, SampleSetRow, SchoolWifi
from collector.db.sample_sets import school_samples
from collector.errors import StoreError
from collector.judge.verdicts import judge_schools
from collector.retention.purge import cutoffs, purge
from collector.wifi.school import school_compliance
from config.collector_settings import RetentionSettings
from config.profile import load_profile
from probes.wifi.detect import parse_output
from tests.collector_db import NOW, Harness, auth, report_body
from tests.conftest import FIXTURES

UAI = "0350122T"
SCAN = FIXTURES / "wifi" / "linux" / "iw-scan" / "jc-centos77-iw-scan1.txt"  # 26 networks heard
DAYS = 120


def _wifi_result() -> dict[str, Any]:
    _tool, outcome = parse_output(SCAN.read_bytes(), path=SCAN)
    assert outcome.measurement is not None
    return {"probe": "wifi", "status": outcome.status.value, "duration_s": 2.0,
            "measurement": outcome.measurement.model_dump(mode="json")}


def _seed(harness: Harness) -> tuple[list[Any], str]:
    """A nightly report a day for 120 days, each with a real scan; the school's own SSID is one it hears."""
    wifi = _wifi_result()
    own = next(n["ssid"] for n in wifi["measurement"]["neighbours"] if n.get("ssid"))
    with harness.sessions() as s:
        s.add(SchoolWifi(school_uai=UAI, ssids=[own], teaching_hours="mon-fri 08:30-16:30",
                         timezone="Europe/Paris", updated_at=NOW))
        s.commit()
    token = harness.enroll(UAI)
    times = [NOW - timedelta(days=d, hours=7) for d in range(DAYS)]
    bodies = []
    for d, at in enumerate(times):
        body = report_body(UAI, down=10.0 + d % 17, taken_at=at)
        body["results"].append(wifi)  # type: ignore[attr-defined]
        bodies.append(body)
    for i in range(0, len(bodies), 50):
        r = harness.client.post("/api/v1/reports/batch", json={"reports": bodies[i : i + 50]},
                                headers=auth(token))
        assert r.status_code == 200 and {x["status"] for x in r.json()["results"]} == {"stored"}, r.text
    return times, own


def _state(harness: Harness) -> tuple[Any, ...]:
    """The verdicts (every judge), the school page's evaluation, the charts' month and W1."""
    profile = load_profile()
    reader = harness.token("reader")
    page = harness.client.get(f"/api/v1/schools/{UAI}", headers=auth(reader)).json()
    rules = [(r["rule_id"], r["outcome"], [(e["value"], e["samples"]) for e in r["evidence"]])
             for r in page["rules"]]
    with harness.engine.connect() as conn:
        verdicts = judge_schools(conn, profile, NOW, use_kept=False)
        month = [(x.metric, x.value, x.taken_at) for x in school_samples(conn, UAI, NOW - timedelta(days=30))]
    with harness.sessions() as s:
        from collector.db.models import School

        school = s.get(School, UAI)
        assert school is not None
        w1 = [(o.outcome, o.readings_outside_hours, len(o.findings))
              for o in school_compliance(s, school, NOW)]
    return verdicts, page["level"], rules, month, w1


def _count(harness: Harness, model: Any, *where: Any) -> int:
    with harness.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _neighbour_names(harness: Harness, older: bool, cut: Any) -> set[str | None]:
    with harness.sessions() as s:
        rows = s.execute(select(ReportRow.payload, ReportRow.taken_at)
                         .where(ReportRow.school_uai == UAI)).all()
    names: set[str | None] = set()
    for payload, taken_at in rows:
        if (taken_at.replace(tzinfo=NOW.tzinfo) < cut) != older:
            continue
        for r in payload["results"]:
            if r["probe"] == "wifi":
                names.update(n.get("ssid") for n in r["measurement"]["neighbours"])
                names.update(n.get("bssid") for n in r["measurement"]["neighbours"])
    return names


def test_purge_removes_what_it_says_and_keeps_the_verdicts(harness: Harness) -> None:
    times, own = _seed(harness)
    before = _state(harness)
    retention = RetentionSettings(report_days=60)
    report_cut, names_cut = cutoffs(retention, load_profile(), NOW)
    assert report_cut is not None
    old = [t for t in times if t < report_cut]
    assert len(old) == DAYS - 61  # whole days before the cut-off: the 61st day back is cut at midnight
    scrubbed = [t for t in times if report_cut <= t < names_cut]

    dry = purge(harness.engine, retention, load_profile(), NOW, dry_run=True)
    assert (dry.reports_deleted, dry.sample_sets_deleted, dry.reports_scrubbed) == (len(old), len(old),
                                                                                    len(scrubbed))
    assert _count(harness, ReportRow) == DAYS and _count(harness, DailyAggregate) == 0  # nothing written

    done = purge(harness.engine, retention, load_profile(), NOW)
    assert (done.reports_deleted, done.sample_sets_deleted, done.reports_scrubbed) == (
        dry.reports_deleted, dry.sample_sets_deleted, dry.reports_scrubbed)
    heard = _wifi_result()["measurement"]["neighbours"]
    named = [n for n in heard if (n.get("ssid") or n.get("bssid")) and n.get("ssid") != own]
    mine = {n["bssid"] for n in heard if n.get("ssid") == own}
    assert len(heard) == 26 and len(mine) == 2 and len(named) == 24  # two access points are the school's
    assert done.neighbours_scrubbed == len(scrubbed) * len(named)
    assert _count(harness, ReportRow) == DAYS - len(old)
    assert _count(harness, ReportRow, ReportRow.taken_at < report_cut) == 0
    assert _count(harness, SampleSetRow) == DAYS - len(old)
    assert _state(harness) == before  # verdicts, page, charts' month, W1: as they were

    # what stays of an old day: its download, the figures of its one report
    day = times[DAYS - 1]
    with harness.sessions() as s:
        agg = s.get(DailyAggregate, (UAI, day.date(), "bandwidth.download_mbps", "CM1"))
        assert agg is not None
        down = 10.0 + (DAYS - 1) % 17
        assert (agg.count, agg.total, agg.median, agg.min, agg.max) == (1, down, down, down, down)
        kept_metrics = {m for (m,) in s.execute(select(DailyAggregate.metric).distinct())}
    assert "bandwidth.download_mbps" in kept_metrics and "device.ram_total_gb" in kept_metrics
    assert "latency.samples_ok" not in kept_metrics  # no rule nor chart reads it: not kept

    # neighbours' names gone from the older reports, the school's own SSID kept; the last week untouched
    assert _neighbour_names(harness, older=True, cut=names_cut) == {own, None, *mine}
    recent = _neighbour_names(harness, older=False, cut=names_cut)
    assert len(recent) > 20 and own in recent

    again = purge(harness.engine, retention, load_profile(), NOW)
    assert (again.reports_deleted, again.reports_scrubbed, again.daily_rows) == (0, 0, 0)


def test_a_retention_shorter_than_the_rules_need_is_refused(engine: Any) -> None:
    from collector.retention.nightly import start_purger

    with pytest.raises(StoreError, match="at least 31"):
        cutoffs(RetentionSettings(report_days=20), load_profile(), NOW)
    with pytest.raises(StoreError, match="longest rule window is 30 days"):  # serving does not start
        start_purger(engine, RetentionSettings(report_days=30), load_profile(), lambda: NOW)
    with pytest.raises(ValueError):
        RetentionSettings(neighbour_networks_days=3)  # the loi Abeille check reads 7 days


def test_purge_command_prints_its_counts(harness: Harness, db_url: str, capsys: pytest.CaptureFixture[str],
                                         tmp_path: Path) -> None:
    _seed(harness)
    assert main(["purge", "--dry-run", "--db", db_url, "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("dry run: nothing removed")
    assert "would be deleted" in out and _count(harness, ReportRow) == DAYS
    assert main(["purge", "--db", db_url, "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "reports taken before" in out and " deleted, with " in out
    assert _count(harness, ReportRow) < DAYS


def test_the_purge_keeps_what_the_school_page_charts() -> None:
    from collector.dashboard.school import CHART_METRICS, SIGNAL
    from collector.retention.purge import CHARTED

    assert {*CHART_METRICS.values(), SIGNAL} <= set(CHARTED)


def test_nightly_purge_time_and_one_run_under_the_sweep_lock(harness: Harness) -> None:
    from datetime import UTC, datetime

    from collector.judge.sweep import sweep_lock
    from collector.retention.nightly import next_run, run_once

    day = datetime(2026, 11, 20, tzinfo=UTC)
    assert next_run(day + timedelta(hours=3), "03:30") == day + timedelta(hours=3, minutes=30)
    tomorrow = day + timedelta(days=1, hours=3, minutes=30)
    assert next_run(day + timedelta(hours=3, minutes=30), "03:30") == tomorrow
    _seed(harness)
    retention = RetentionSettings(report_days=60)
    with sweep_lock(harness.engine) as got:
        if got and harness.engine.dialect.name == "postgresql":  # another session holds it: no purge
            assert run_once(harness.engine, retention, load_profile(), NOW) is None
    counts = run_once(harness.engine, retention, load_profile(), NOW)
    assert counts is not None and counts.reports_deleted == DAYS - 61


def test_a_nights_purge_reads_only_what_aged_since_and_all_reads_the_rest(harness: Harness) -> None:
    """After a purge, the next one erases names in the reports that aged past the cut-off since (and those
    delivered up to two days late); a report delivered weeks late waits for ``purge --all``."""
    _times, _own = _seed(harness)
    retention = RetentionSettings(report_days=60)
    first = purge(harness.engine, retention, load_profile(), NOW)
    assert first.reports_scrubbed == 53  # the first purge reads every report kept
    token = harness.enroll(UAI)
    late = []
    for days in (8, 20):  # delivered now, taken 8 and 20 days ago
        body = report_body(UAI, taken_at=NOW - timedelta(days=days))
        body["results"].append(_wifi_result())  # type: ignore[attr-defined]
        late.append(body)
    r = harness.client.post("/api/v1/reports/batch", json={"reports": late}, headers=auth(token))
    assert r.status_code == 200
    tomorrow = purge(harness.engine, retention, load_profile(), NOW + timedelta(days=1))
    assert tomorrow.reports_scrubbed == 2  # the night's 02:00 report that aged, and the one 8 days old
    assert purge(harness.engine, retention, load_profile(), NOW + timedelta(days=1)).reports_scrubbed == 0
    everything = purge(harness.engine, retention, load_profile(), NOW + timedelta(days=1), everything=True)
    assert everything.reports_scrubbed == 1  # the report 20 days old
