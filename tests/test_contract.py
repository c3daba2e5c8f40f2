"""The wire contract is the only thing agent and collector share."""

from __future__ import annotations

import ast
import uuid
from pathlib import Path

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


# --- the collector's rooms ------------------------------------------------------------------------

# What each room of the collector may import from the others (besides itself and the leaf
# collector.errors): lower rooms never reach up, and only app.py assembles the app.
ROOM_MAY_IMPORT: dict[str, set[str]] = {
    "db": set(),
    "edge": set(),
    "schools": {"db"},
    "wifi": {"db", "schools"},
    "auth": {"db", "schools"},
    "equipment": {"db", "schools"},
    "judge": {"db", "edge", "schools", "wifi", "equipment"},
    "alerts": {"db", "auth", "schools"},
    "retention": {"db", "edge", "schools", "wifi", "judge"},
    "ingest": {"db", "edge", "auth"},
    "api": {"db", "edge", "schools", "wifi", "auth", "judge", "ingest", "equipment"},
    "dashboard": {"db", "edge", "schools", "wifi", "auth", "judge", "ingest", "api", "equipment", "alerts"},
    "app": {"db", "edge", "ingest", "judge", "retention", "api", "dashboard", "alerts"},
    # The printed report says "why not higher" with the school page's own summary (dashboard/rule_words).
    "cli": {"db", "edge", "schools", "wifi", "auth", "judge", "retention", "ingest", "app", "equipment",
            "alerts", "dashboard"},
}
LEAVES = {"errors"}
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
LONG_REASON = "Why this long:"  # a function past MAX_FUNCTION_LINES says why in its docstring


def _room(path: Path) -> str:
    parts = path.relative_to(ROOT / "collector").parts
    return parts[0].removesuffix(".py") if len(parts) > 1 or parts[0] != "__init__.py" else ""


def _collector_imports(path: Path) -> set[str]:
    """The collector modules ``path`` imports, dotted (``from collector import x`` names ``collector.x``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("collector.")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "collector":
                found |= {f"collector.{a.name}" for a in node.names}
            elif node.module.startswith("collector."):
                found.add(node.module)
    return found


def _collector_files() -> list[Path]:
    return sorted(p for p in (ROOT / "collector").rglob("*.py"))


def test_every_collector_room_is_listed() -> None:
    rooms = {_room(p) for p in _collector_files()} - {""}
    assert rooms <= set(ROOM_MAY_IMPORT) | LEAVES, rooms - set(ROOM_MAY_IMPORT) - LEAVES


def test_collector_rooms_import_only_what_their_layer_allows() -> None:
    bad = []
    for path in _collector_files():
        room = _room(path)
        allowed = ROOM_MAY_IMPORT.get(room, set()) | LEAVES | {room}
        for module in _collector_imports(path):
            target = module.split(".")[1]
            if target not in allowed:
                bad.append(f"{path.relative_to(ROOT)} imports {module}")
    assert not bad, "\n".join(bad)


def test_the_collector_imports_form_no_circle() -> None:
    """Module by module: no import cycle, so each module can be read after the ones it uses."""
    def name(path: Path) -> str:
        dotted = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        return dotted.removesuffix(".__init__")

    graph = {name(p): {m for m in _collector_imports(p)} for p in _collector_files()}
    state: dict[str, int] = {}  # 1: being visited, 2: done

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                raise AssertionError("import circle: " + " -> ".join([*trail, node, nxt]))
            if nxt not in state:
                visit(nxt, [*trail, node])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])


def test_only_the_app_factory_assembles_the_app() -> None:
    assembling = ("FastAPI(", ".add_middleware(", ".add_exception_handler(", ".exception_handler(")
    factory = ROOT / "collector" / "app.py"
    bad = [f"{p.relative_to(ROOT)}: {word}" for p in _collector_files() if p != factory
           for word in assembling if word in p.read_text(encoding="utf-8")]
    assert not bad, bad


@pytest.mark.parametrize("package", ["collector"])
def test_modules_and_functions_stay_short(package: str) -> None:
    """A module past MAX_MODULE_LINES is one to split; a longer function says why in its docstring."""
    long_modules, long_functions = [], []
    for path in sorted((ROOT / package).rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) > MAX_MODULE_LINES:
            long_modules.append(str(path.relative_to(ROOT)))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES and LONG_REASON not in (ast.get_docstring(node) or ""):
                    long_functions.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length})")
    assert not long_modules, long_modules
    assert not long_functions, long_functions


# --- what an agent may send ---------------------------------------------------------------------------

def _sent_models() -> list[type]:
    import config.wire as wire

    return [m for m in vars(wire).values()
            if isinstance(m, type) and issubclass(m, wire._Sent) and m is not wire._Sent]


def test_every_number_text_and_list_an_agent_sends_is_bounded() -> None:
    """A value a machine cannot measure (1.7e308 Mbit/s, a 100 kB service name) is refused at the door:
    every field of what an agent sends has an upper bound or a length."""
    import typing

    import annotated_types

    unbounded = []
    for model in _sent_models():
        for name, info in model.model_fields.items():
            args = typing.get_args(info.annotation) or (info.annotation,)
            leaf = {a for a in args if a is not type(None)}
            kinds = {type(m) for m in info.metadata}
            if leaf & {int, float} and bool not in leaf and not kinds & {annotated_types.Le,
                                                                         annotated_types.Lt}:
                unbounded.append(f"{model.__name__}.{name}")
            if (leaf == {str} or typing.get_origin(info.annotation) in (list, dict)) \
                    and annotated_types.MaxLen not in kinds:
                unbounded.append(f"{model.__name__}.{name}")
    assert len(_sent_models()) >= 15
    assert not unbounded, unbounded


@pytest.mark.parametrize(("field", "value"), [("download_mbps", 1.7e308), ("download_mbps", 1e12),
                                              ("upload_s", 90_000.0), ("bytes_used", 10**16)])
def test_a_figure_no_machine_measures_is_refused_with_its_path(field: str, value: float) -> None:
    body = _report(results=[{"probe": "bandwidth", "status": "ok", "duration_s": 1,
                             "measurement": {"kind": "bandwidth", "server": "x", field: value}}])
    with pytest.raises(ValidationError) as err:
        Report.model_validate(body)
    assert [e["loc"] for e in err.value.errors()] == [("results", 0, "measurement", "bandwidth", field)]


@pytest.mark.parametrize("room", ["CM1\x00", "CM1\x1b[2J", "CM1\nCE2", "x" * 201])
def test_a_room_or_host_name_is_one_line_of_printable_text(room: str) -> None:
    with pytest.raises(ValidationError) as err:
        Report.model_validate(_report(room=room))
    assert [e["loc"] for e in err.value.errors()] == [("room",)]
    with pytest.raises(ValidationError):
        Report.model_validate(_report(device={"instance_id": str(uuid.uuid4()), "hostname": room}))


def test_what_a_probe_cannot_vouch_for_crosses_the_wire() -> None:
    """A bandwidth result with its windows, its client's CPU, a loss with its echoes and interval, and
    ``doubtful``, and a latency loss with its interval, go through the report's JSON unchanged."""
    bandwidth = {"kind": "bandwidth", "server": "http://10.77.0.1:4444", "download_mbps": 47.3,
                 "upload_mbps": 8.41, "download_windows": 9, "download_spread_pct": 0.8,
                 "upload_windows": 7, "upload_spread_pct": 18.24, "loss_pct": 2.5, "loss_method": "icmp",
                 "loss_samples": 200, "loss_ci_low_pct": 0.81, "loss_ci_high_pct": 5.74,
                 "client_cpu_pct": 7.8, "client_wait_pct": 46.0, "machine_cpu_pct": 100.0,
                 "client_limited": True, "limited_by": "client_cpu",
                 "doubtful": {"upload_mbps": "its 7 windows disagree",
                              "loss_pct": "5 of 200 lost: 95 % interval 0.81-5.74 %"}}
    latency = {"kind": "latency", "target": "http://c/healthz", "samples_sent": 10, "samples_ok": 10,
               "loss_pct": 0.0, "loss_ci_low_pct": 0.0, "loss_ci_high_pct": 30.85,
               "doubtful": {"loss_pct": "0 of 10 lost"}}
    body = _report(results=[
        {"probe": "bandwidth", "status": "degraded", "duration_s": 20, "measurement": bandwidth},
        {"probe": "latency", "status": "ok", "duration_s": 1, "measurement": latency}])
    report = Report.model_validate(body)
    again = Report.model_validate_json(report.model_dump_json())
    sent = again.model_dump(mode="json")["results"]
    assert {k: v for k, v in sent[0]["measurement"].items() if k in bandwidth} == bandwidth
    assert {k: v for k, v in sent[1]["measurement"].items() if k in latency} == latency


@pytest.mark.parametrize(("field", "value"), [("loss_samples", 0), ("loss_ci_high_pct", 100.5),
                                              ("upload_spread_pct", 1e6), ("client_wait_pct", -1.0)])
def test_an_impossible_confidence_is_refused(field: str, value: float) -> None:
    body = _report(results=[{"probe": "bandwidth", "status": "ok", "duration_s": 1,
                             "measurement": {"kind": "bandwidth", "server": "x", field: value}}])
    with pytest.raises(ValidationError) as err:
        Report.model_validate(body)
    assert [e["loc"] for e in err.value.errors()] == [("results", 0, "measurement", "bandwidth", field)]
