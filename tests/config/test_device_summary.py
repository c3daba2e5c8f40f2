"""The school-level device summary: how many devices fail which rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from config.profile import load_profile
from config.readiness import Sample, evaluate
from config.summary import device_summary

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def _device(name: str, **values: float) -> list[Sample]:
    return [Sample(metric=f"device.{k}", value=v, taken_at=NOW - timedelta(days=1), room="CM1",
                   device=name) for k, v in values.items()]


def test_counts_failing_devices_per_rule() -> None:
    good = dict(ram_total_gb=8, cpu_cores_logical=4, disk_total_gb=256, disk_free_pct=40,
                disk_is_ssd=1, os_supported=1)
    samples = (
        _device("pc1", **good)
        + _device("pc2", **{**good, "os_supported": 0, "disk_is_ssd": 0})  # Windows 10 on a hard disk
        + _device("pc3", **{**good, "os_supported": 0, "ram_total_gb": 4})
        + _device("pc4", **{k: v for k, v in good.items() if k != "disk_is_ssd"})  # kind unknown
    )
    summary = device_summary(evaluate(load_profile(), samples, NOW).outcomes)
    by = {r.rule_id: r for r in summary.rules}
    assert (summary.devices, summary.devices_failing) == (4, 2)
    assert (by["E7-os-supported"].failing, by["E7-os-supported"].failing_devices) == (2, ["pc2", "pc3"])
    assert (by["E5-ssd"].passing, by["E5-ssd"].failing, by["E5-ssd"].failing_devices) == (2, 1, ["pc2"])
    assert (by["E5-ram"].failing, by["E5-ram"].failing_devices) == (1, ["pc3"])
    assert by["E5-cpu"].failing == 0 and by["E5-cpu"].passing == 4
    assert by["E7-os-supported"].source == "E7"
    assert not any(r.rule_id.startswith(("A", "F", "W")) for r in summary.rules)


def test_no_devices() -> None:
    summary = device_summary(evaluate(load_profile(), [], NOW).outcomes)
    assert (summary.devices, summary.devices_failing) == (0, 0)
    assert all(r.passing == r.failing == r.no_data == 0 for r in summary.rules)
