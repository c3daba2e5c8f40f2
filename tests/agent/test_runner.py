"""The runner is the one boundary: crashes and hangs become error results, the rest still goes."""

from __future__ import annotations

import threading

from agent.runner import run_probe, run_probes
from config.wire import BandwidthMeasurement, DeviceMeasurement, ProbeStatus
from probes.base import Outcome, ProbeContext, ProbeSpec


def _ok(ctx: ProbeContext) -> Outcome:
    return Outcome.ok(DeviceMeasurement(ram_total_gb=8))


def _crash(ctx: ProbeContext) -> Outcome:
    raise RuntimeError("driver said no\nsecond line with details")


_release = threading.Event()


def _hang(ctx: ProbeContext) -> Outcome:
    _release.wait(30)
    return _ok(ctx)


def _wrong(ctx: ProbeContext) -> Outcome:
    return "a string"  # type: ignore[return-value]


def test_crash_and_hang_become_errors_and_the_others_still_run() -> None:
    specs = [ProbeSpec("hang", _hang, "hangs"), ProbeSpec("crash", _crash, "crashes"),
             ProbeSpec("device", _ok, "works")]
    try:
        results = run_probes(specs, ProbeContext(), timeout_s=0.3)
    finally:
        _release.set()
    by_name = {r.probe: r for r in results}
    assert by_name["hang"].status is ProbeStatus.error
    assert by_name["hang"].reason == "timed out after 0.3 s"
    assert by_name["crash"].status is ProbeStatus.error
    assert by_name["crash"].reason == "probe crashed: RuntimeError: driver said no"
    assert by_name["device"].status is ProbeStatus.ok
    assert by_name["device"].measurement == DeviceMeasurement(ram_total_gb=8)


def test_a_probe_returning_something_else_is_an_error() -> None:
    result = run_probe(ProbeSpec("wrong", _wrong, "wrong"), ProbeContext(), 1)
    assert result.status is ProbeStatus.error
    assert "returned str" in (result.reason or "")


def test_a_probe_may_ask_for_a_longer_timeout() -> None:
    seen: list[float] = []

    def slow(ctx: ProbeContext) -> Outcome:
        seen.append(1)
        return _ok(ctx)

    spec = ProbeSpec("slow", slow, "slow", default_timeout_s=120)
    assert run_probes([spec], ProbeContext(), timeout_s=1)[0].status is ProbeStatus.ok


def test_a_measurement_filled_with_a_forbidden_value_becomes_an_error() -> None:
    def zero(ctx: ProbeContext) -> Outcome:
        m = BandwidthMeasurement(server="http://collector")
        m.download_mbps = 0.0  # set field by field: pydantic does not check it here
        return Outcome.ok(m)

    result = run_probe(ProbeSpec("bandwidth", zero, "zero"), ProbeContext(), 1)
    assert result.status is ProbeStatus.error
    assert "invalid measurement" in (result.reason or "")
    assert "download_mbps" in (result.reason or "") or "greater than 0" in (result.reason or "")
    assert result.measurement is None
