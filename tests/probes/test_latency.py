"""The latency probe through a fake HTTP session and a fake clock."""

from __future__ import annotations

import pytest
import requests

from config.agent_settings import AgentSettings
from config.wire import LatencyMeasurement, ProbeStatus
from probes import latency
from probes.base import ProbeContext


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


class FakeResponse:
    def close(self) -> None:
        pass


class FakeHttp:
    """Each GET advances the clock by the next delay; None raises a connection error."""

    def __init__(self, clock: FakeClock, delays_ms: list[float | None]) -> None:
        self.clock = clock
        self.delays = list(delays_ms)
        self.urls: list[str] = []

    def get(self, url: str, timeout: float) -> FakeResponse:
        self.urls.append(url)
        delay = self.delays.pop(0)
        if delay is None:
            raise requests.ConnectionError("refused")
        self.clock.t += delay / 1000
        return FakeResponse()


def _ctx(delays: list[float | None], samples: int = 4) -> tuple[ProbeContext, FakeHttp]:
    clock = FakeClock()
    http = FakeHttp(clock, delays)
    settings = AgentSettings.model_validate({"probes": {"latency": {"samples": samples}}})
    return ProbeContext(settings=settings, collector_url="http://collector:8470/", http=http,
                        monotonic=clock, sleep=lambda s: None), http


def test_figures_from_the_round_trips_after_the_connection_opens() -> None:
    ctx, http = _ctx([300, 10, 20, 14, 12])
    outcome = latency.run(ctx)
    assert outcome.status is ProbeStatus.ok
    m = outcome.measurement
    assert isinstance(m, LatencyMeasurement)
    assert http.urls[0] == "http://collector:8470/healthz"
    assert (m.rtt_min_ms, m.rtt_median_ms, m.rtt_max_ms) == pytest.approx((10, 13, 20))
    assert m.jitter_ms == pytest.approx((10 + 6 + 2) / 3)
    assert (m.samples_sent, m.samples_ok, m.loss_pct) == (4, 4, 0)
    assert m.internet_reachable is True


def test_lost_round_trips_count_as_loss_and_degrade() -> None:
    ctx, _ = _ctx([5, 10, None, 12, None])
    outcome = latency.run(ctx)
    assert outcome.status is ProbeStatus.degraded
    assert isinstance(outcome.measurement, LatencyMeasurement)
    assert outcome.measurement.loss_pct == 50
    assert outcome.reason == "2 of 4 round trips failed"
    assert outcome.measurement.internet_reachable is True  # the collector answered, if not every time


def test_unreachable_collector_is_an_error_without_made_up_figures() -> None:
    ctx, _ = _ctx([None])
    outcome = latency.run(ctx)
    assert outcome.status is ProbeStatus.error
    assert isinstance(outcome.measurement, LatencyMeasurement)
    assert outcome.measurement.rtt_median_ms is None
    assert "rtt_median_ms" in outcome.measurement.missing
    assert outcome.measurement.internet_reachable is False  # said, not left out: A13 counts it


def test_only_what_an_unreachable_collector_tells_becomes_a_sample() -> None:
    """An error result gives the one field its measurement keeps on error, not its absent figures; an
    unavailable one (not enrolled) gives nothing: absent is not unreachable."""
    import uuid
    from datetime import UTC, datetime

    from config.samples import report_columns
    from config.wire import DeviceIdentity, ProbeResult, Report

    down = latency.run(_ctx([None])[0])
    unknown = latency.run(ProbeContext())
    up = latency.run(_ctx([5, 10, 12, 14, 11])[0])

    def columns(outcome: latency.Outcome) -> dict[str, float]:
        result = ProbeResult(probe="latency", status=outcome.status, measurement=outcome.measurement,
                             reason=outcome.reason, duration_s=0.1)
        report = Report(report_id=uuid.uuid4(), agent_version="t", school_uai="0350122T", room="CM1",
                        device=DeviceIdentity(instance_id=uuid.uuid4(), hostname="pc"),
                        taken_at=datetime(2026, 11, 20, 9, tzinfo=UTC), results=[result])
        got = report_columns(report)
        return dict(zip(got.metrics, got.values, strict=True))

    assert columns(down) == {"latency.internet_reachable": 0.0}
    assert columns(unknown) == {}
    assert columns(up)["latency.internet_reachable"] == 1.0 and "latency.rtt_median_ms" in columns(up)


def test_not_enrolled_is_unavailable() -> None:
    outcome = latency.run(ProbeContext())
    assert outcome.status is ProbeStatus.unavailable
    assert "not enrolled" in (outcome.reason or "")


def test_the_loss_comes_with_its_interval_and_is_doubted_from_few_round_trips() -> None:
    m = latency.summarise("http://c/healthz", 10, [5.0] * 10)
    assert (m.loss_pct, m.loss_ci_low_pct, m.loss_ci_high_pct) == (0.0, 0.0, 30.85)
    assert m.doubtful == {"loss_pct": "0 of 10 lost: 95 % interval 0.00-30.85 %: too few round trips to "
                                      "judge (an interval over 2 points)"}
    enough = latency.summarise("http://c/healthz", 200, [5.0] * 200)
    assert (enough.loss_ci_low_pct, enough.loss_ci_high_pct, enough.doubtful) == (0.0, 1.83, {})
    assert latency.summarise("http://c/healthz", 0, []).loss_ci_high_pct is None
