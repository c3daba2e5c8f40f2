"""A loss figure's interval, and the rule layer leaving out what a probe cannot vouch for."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime

import pytest

from config.confidence import binomial_interval, describe, loss_interval_pct, loss_is_sound
from config.profile import Profile
from config.readiness import evaluate
from config.samples import report_columns, unjudged
from config.wire import Report

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def _at_most(k: int, n: int, p: float) -> float:
    """P(X <= k), X ~ Binomial(n, p), by plain sums of math.comb terms (not the module's log-space path)."""
    return sum(math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(k + 1))


@pytest.mark.parametrize(("lost", "sent"), [(0, 10), (2, 100), (7, 100), (0, 200), (4, 200), (10, 10),
                                            (20, 1000)])
def test_the_exact_interval_meets_its_definition(lost: int, sent: int) -> None:
    low, high = binomial_interval(lost, sent)
    # Clopper-Pearson: P(X >= lost; low) = 2.5 % and P(X <= lost; high) = 2.5 %.
    if lost > 0:
        assert 1 - _at_most(lost - 1, sent, low) == pytest.approx(0.025, abs=1e-7)
    if lost < sent:
        assert _at_most(lost, sent, high) == pytest.approx(0.025, abs=1e-7)


def test_the_exact_interval_at_its_closed_forms() -> None:
    # None lost: the upper bound is 1 - 0.025^(1/n); all lost: the lower bound is 0.025^(1/n).
    assert binomial_interval(0, 10) == (0.0, pytest.approx(1 - 0.025 ** 0.1, abs=1e-9))
    assert binomial_interval(0, 200) == (0.0, pytest.approx(1 - 0.025 ** (1 / 200), abs=1e-9))
    assert binomial_interval(10, 10) == (pytest.approx(0.025 ** 0.1, abs=1e-9), 1.0)


def test_percent_intervals_are_rounded_outward_and_described() -> None:
    assert loss_interval_pct(2, 100) == (0.24, 7.04)
    assert loss_interval_pct(0, 200) == (0.0, 1.83)
    assert describe(2, 100, 0.24, 7.04) == "2 of 100 lost: 95 % interval 0.24-7.04 %"


@pytest.mark.parametrize(("lost", "sent"), [(1, 0), (-1, 10), (11, 10)])
def test_impossible_counts_are_refused(lost: int, sent: int) -> None:
    with pytest.raises(ValueError, match="events in"):
        binomial_interval(lost, sent)


@pytest.mark.parametrize(("lost", "sent", "sound"), [
    (0, 10, False), (0, 100, False), (2, 100, False), (0, 200, True), (1, 200, False),
    (20, 1000, True), (0, 1000, True),
])
def test_a_loss_is_judged_only_from_enough_probes(lost: int, sent: int, sound: bool) -> None:
    assert loss_is_sound(*loss_interval_pct(lost, sent)) is sound


def test_an_unknown_interval_is_never_sound() -> None:
    assert loss_is_sound(None, 1.0) is False and loss_is_sound(0.0, None) is False


def _report(latency: dict[str, object], bandwidth: dict[str, object], status: str = "degraded") -> Report:
    return Report.model_validate({
        "report_id": str(uuid.uuid4()), "agent_version": "0.1.0",
        "device": {"instance_id": str(uuid.uuid4()), "hostname": "pc-cm1"},
        "school_uai": "0350122T", "room": "CM1", "taken_at": NOW.isoformat(),
        "results": [
            {"probe": "latency", "status": "ok", "duration_s": 0.5,
             "measurement": {"kind": "latency", "target": "http://c/healthz", **latency}},
            {"probe": "bandwidth", "status": status, "duration_s": 20,
             "measurement": {"kind": "bandwidth", "server": "http://c", **bandwidth}},
        ]})


def _metrics(report: Report) -> dict[str, float]:
    cols = report_columns(report)
    return dict(zip(cols.metrics, cols.values, strict=True))


def test_the_rules_never_see_what_a_probe_doubted_nor_a_loss_too_loosely_known() -> None:
    report = _report(
        {"samples_sent": 10, "samples_ok": 10, "rtt_median_ms": 12.0, "loss_pct": 0.0,
         "loss_ci_low_pct": 0.0, "loss_ci_high_pct": 30.85},
        {"download_mbps": 40.1, "upload_mbps": 9.0, "loss_pct": 2.0, "loss_method": "icmp",
         "loss_samples": 100, "loss_ci_low_pct": 0.24, "loss_ci_high_pct": 7.04,
         "doubtful": {"upload_mbps": "its 9 windows disagree"}})
    got = _metrics(report)
    assert "latency.loss_pct" not in got and "bandwidth.loss_pct" not in got
    assert "bandwidth.upload_mbps" not in got
    # What the probe vouches for is judged as before, and the interval itself is there to read.
    assert got["bandwidth.download_mbps"] == 40.1 and got["latency.rtt_median_ms"] == 12.0
    assert got["bandwidth.loss_ci_high_pct"] == 7.04 and got["bandwidth.loss_samples"] == 100


def test_a_loss_from_enough_probes_is_judged_and_one_without_an_interval_is_not() -> None:
    sound = _report({"samples_sent": 200, "samples_ok": 200, "loss_pct": 0.0, "loss_ci_low_pct": 0.0,
                     "loss_ci_high_pct": 1.83},
                    {"download_mbps": 40.0, "loss_pct": 0.7, "loss_method": "tcp_retrans"}, status="ok")
    got = _metrics(sound)
    assert got["latency.loss_pct"] == 0.0
    assert "bandwidth.loss_pct" not in got  # a TCP retransmission share has no interval
    assert unjudged({"loss_pct": None}) == set()  # nothing measured: nothing to leave out


def test_a_doubted_figure_leaves_its_rule_without_data_not_failed() -> None:
    profile = Profile.model_validate({
        "profile": {"id": "p", "title": "t", "version": "1"},
        "rules": [{"id": "up", "title": "up", "source": "A2", "metric": "bandwidth.upload_mbps",
                   "comparison": ">=", "threshold": 10, "scope": "school", "aggregate": "median",
                   "window_days": 7, "level": "base"},
                  {"id": "loss", "title": "loss", "source": "A12", "metric": "latency.loss_pct",
                   "comparison": "<=", "threshold": 1, "scope": "school", "aggregate": "median",
                   "window_days": 7, "level": "target"}]})
    report = _report({"samples_sent": 10, "samples_ok": 9, "loss_pct": 10.0, "loss_ci_low_pct": 0.25,
                      "loss_ci_high_pct": 44.51},
                     {"upload_mbps": 9.0, "doubtful": {"upload_mbps": "its 9 windows disagree"}})
    from config.samples import samples_from_report

    outcomes = {o.rule_id: o.outcome for o in evaluate(profile, samples_from_report(report), NOW).outcomes}
    assert outcomes == {"up": "no_data", "loss": "no_data"}
