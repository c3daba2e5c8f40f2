"""Reports from a machine whose clock was off are placed where they belong, by the offset they measured
themselves; their samples count; the school page says which machine's clock is off. Both databases."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from collector.db.models import ReportRow
from collector.db.sample_sets import school_samples
from collector.ingest.clock import placement
from config.wire import Report
from tests.collector_db import NOW, Harness, auth, report_body

TWO_YEARS = timedelta(days=730)


def _with_offset(body: dict[str, object], offset: timedelta) -> dict[str, object]:
    results = body["results"]
    assert isinstance(results, list)
    results[0]["measurement"]["clock_offset_ms"] = offset.total_seconds() * 1000
    return body


def test_a_report_taken_two_years_behind_is_placed_by_its_own_offset_and_counts(harness: Harness) -> None:
    token = harness.enroll()
    taken = NOW - timedelta(hours=7)
    body = _with_offset(report_body(down=50.0, taken_at=taken - TWO_YEARS), TWO_YEARS)
    assert harness.client.post("/api/v1/reports", json=body, headers=auth(token)).status_code == 201
    with harness.engine.connect() as conn:
        (row_taken,) = conn.execute(select(ReportRow.taken_at)).one()
        samples = school_samples(conn, "0350122T", NOW - timedelta(days=1))
        payload = conn.execute(select(ReportRow.payload)).scalar_one()
    assert abs((row_taken.replace(tzinfo=taken.tzinfo) - taken).total_seconds()) < 1
    assert {s.metric: s.value for s in samples}["bandwidth.download_mbps"] == 50.0
    assert all(abs((s.taken_at - taken).total_seconds()) < 1 for s in samples)
    assert payload["taken_at"].startswith(str((taken - TWO_YEARS).year))  # the report as it came
    reader = harness.token("reader")
    rules = {r["rule_id"]: r for r in harness.client.get("/api/v1/schools/0350122T",
                                                         headers=auth(reader)).json()["rules"]}
    assert rules["A1-download-floor"]["outcome"] == "pass"  # it counts: judged in its window
    page = harness.client.get("/dashboard/schools/0350122T", headers=auth(reader))
    assert "décalée de 63" in page.text  # 730 days = 63,072,000 s, shown with the machine


def test_a_report_dated_ahead_without_an_offset_is_placed_at_its_reception() -> None:
    ahead = Report.model_validate(report_body(taken_at=NOW + timedelta(hours=3)))
    placed = placement(ahead, NOW)
    assert placed.shift == -timedelta(hours=3) and placed.why is not None
    ancient = Report.model_validate(report_body(taken_at=NOW - timedelta(days=900)))
    assert placement(ancient, NOW).shift == timedelta(days=900)
    on_time = Report.model_validate(_with_offset(report_body(taken_at=NOW - timedelta(hours=2)),
                                                 timedelta(minutes=3)))
    assert placement(on_time, NOW).shift == timedelta(0)  # within the judges' allowance: as dated
    slow_clock = Report.model_validate(_with_offset(report_body(taken_at=NOW - timedelta(hours=2)),
                                                    timedelta(minutes=-45)))
    assert placement(slow_clock, NOW).shift == -timedelta(minutes=45)
