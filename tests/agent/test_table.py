"""The table ``socle-agent check`` prints: a figure the rules leave out says so and why."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from agent.table import render_check
from config.profile import load_profile
from config.readiness import evaluate
from config.samples import samples_from_report
from config.wire import Report

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def test_a_loss_from_too_few_echoes_is_shown_not_judged() -> None:
    report = Report.model_validate({
        "report_id": str(uuid.uuid4()), "agent_version": "0.1.0",
        "device": {"instance_id": str(uuid.uuid4()), "hostname": "pc-cm1"},
        "school_uai": "0350122T", "room": "CM1", "taken_at": NOW.isoformat(),
        "results": [{"probe": "latency", "status": "ok", "duration_s": 0.5, "measurement": {
            "kind": "latency", "target": "http://c/healthz", "samples_sent": 10, "samples_ok": 10,
            "rtt_median_ms": 12.0, "jitter_ms": 1.0, "loss_pct": 0.0, "loss_ci_low_pct": 0.0,
            "loss_ci_high_pct": 30.85,
            "doubtful": {"loss_pct": "0 of 10 lost: 95 % interval 0.00-30.85 %"}}},
            {"probe": "bandwidth", "status": "degraded", "duration_s": 20, "measurement": {
                "kind": "bandwidth", "server": "http://c", "download_mbps": 40.0, "loss_pct": 2.0,
                "loss_method": "icmp", "loss_samples": 100, "loss_ci_low_pct": 0.24, "loss_ci_high_pct": 7.04,
                "doubtful": {"loss_pct": "2 of 100 lost: 95 % interval 0.24-7.04 %"}}}]})
    ev = evaluate(load_profile(), samples_from_report(report), NOW)
    lines = render_check(report, ev, passed=False).splitlines()
    at = next(k for k, line in enumerate(lines) if "A12-loss" in line)
    assert "loss_pct = 2 not judged" in lines[at] and lines[at].rstrip().endswith("no data")
    assert lines[at + 1].strip() == "- 2 of 100 lost: 95 % interval 0.24-7.04 %"
    assert max(len(line) for line in lines) <= 100
    latency = next(line for line in lines if "A12-latency" in line)
    assert "rtt_median_ms = 12" in latency and latency.rstrip().endswith("pass")
