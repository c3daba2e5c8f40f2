"""The wire contract is the only thing agent and collector share."""

from __future__ import annotations

import ast
import uuid

import pytest
from pydantic import ValidationError

from config.wire import DeviceMeasurement, ProbeResult, ProbeStatus, Report
from tests.conftest import ROOT

AGENT_SIDE = {"agent", "probes"}
COLLECTOR_SIDE = {"collector"}


def _imports(package: str) -> set[tuple[str, str]]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found |= {(str(path.relative_to(ROOT)), a.name.split(".")[0]) for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add((str(path.relative_to(ROOT)), node.module.split(".")[0]))
    return found


def test_collector_does_not_import_agent_runtime_code() -> None:
    bad = {(f, m) for f, m in _imports("collector") if m in AGENT_SIDE}
    assert not bad


@pytest.mark.parametrize("package", ["agent", "probes"])
def test_agent_side_does_not_import_the_collector(package: str) -> None:
    bad = {(f, m) for f, m in _imports(package) if m in COLLECTOR_SIDE}
    assert not bad


def test_config_imports_neither_side() -> None:
    bad = {(f, m) for f, m in _imports("config") if m in AGENT_SIDE | COLLECTOR_SIDE}
    assert not bad


def _report(**kw: object) -> dict[str, object]:
    body: dict[str, object] = {
        "report_id": str(uuid.uuid4()), "agent_version": "0.1.0",
        "device": {"instance_id": str(uuid.uuid4()), "hostname": "pc-cm1"},
        "school_uai": "0350122T", "room": "CM1", "taken_at": "2026-11-20T02:13:00+01:00",
        "results": [{"probe": "device", "status": "ok", "duration_s": 0.1,
                     "measurement": {"kind": "device", "ram_total_gb": 8.2}}],
    }
    body.update(kw)
    return body


def test_a_report_round_trips_and_its_time_is_utc() -> None:
    report = Report.model_validate(_report())
    assert report.taken_at.utcoffset() is not None and report.taken_at.hour == 1
    assert report.schema_version == 1
    again = Report.model_validate_json(report.model_dump_json())
    assert again == report
    m = again.results[0].measurement
    assert isinstance(m, DeviceMeasurement) and m.ram_total_gb == 8.2


@pytest.mark.parametrize(("patch", "where"), [
    ({"school_uai": "0350122A"}, "school_uai"),
    ({"taken_at": "2026-11-20T02:13:00"}, "taken_at"),
    ({"schema_version": 2}, "schema_version"),
    ({"report_id": "nope"}, "report_id"),
    ({"results": [{"probe": "device", "status": "fine", "duration_s": 0}]}, "results.0.status"),
    ({"results": [{"probe": "device", "status": "ok", "duration_s": 0,
                   "measurement": {"kind": "device", "ram_total_gb": -1}}]},
     "results.0.measurement.device.ram_total_gb"),
])
def test_invalid_reports_are_refused_with_the_field_path(patch: dict[str, object], where: str) -> None:
    with pytest.raises(ValidationError) as err:
        Report.model_validate(_report(**patch))
    paths = {".".join(str(p) for p in e["loc"]) for e in err.value.errors()}
    assert where in paths


def test_nan_is_never_a_measurement() -> None:
    with pytest.raises(ValidationError):
        ProbeResult(probe="device", status=ProbeStatus.ok, duration_s=float("nan"))
    with pytest.raises(ValidationError):
        DeviceMeasurement(ram_total_gb=float("nan"))


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+00:01", "9999-12-31T23:59:59-01:00"])
def test_a_taken_at_at_the_edge_of_the_calendar_is_refused_not_a_crash(when: str) -> None:
    with pytest.raises(ValidationError) as err:
        Report.model_validate(_report(taken_at=when))
    assert "between the years 2000 and 2100" in str(err.value)
