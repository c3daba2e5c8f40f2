"""The displays probe end to end through its seams: a fake /sys, a fake command runner, per OS."""

from __future__ import annotations

import base64
import json
import shutil
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.cli import main
from config.agent_settings import AgentSettings
from config.samples import report_columns
from config.wire import DeviceIdentity, DisplaysMeasurement, ProbeResult, ProbeStatus, Report
from probes import registry
from probes.base import CommandResult, ProbeContext, ToolMissing
from probes.displays import run
from probes.displays.probe import argv_for
from probes.displays.windows import SCRIPT
from tests.conftest import FIXTURES

FIX = FIXTURES / "displays"
EPSON = FIX / "edid/linuxhw/SECA610-F5819F694D53.bin"
PANEL = FIX / "edid/linuxhw/CMN13A9-5B6D6631F883.bin"


class FakeRunner:
    """Answers commands by their first two words; records what was asked."""

    def __init__(self, answers: dict[str, CommandResult | Exception]) -> None:
        self.answers = answers
        self.calls: list[list[str]] = []

    def __call__(self, argv: Sequence[str], timeout: float) -> CommandResult:
        self.calls.append(list(argv))
        answer = self.answers.get(" ".join(argv[:2])) or self.answers.get(argv[0])
        if answer is None:
            raise ToolMissing(f"{argv[0]} is not installed")
        if isinstance(answer, Exception):
            raise answer
        return answer


def _drm(root: Path, connectors: dict[str, tuple[str, bytes]]) -> Path:
    base = root / "sys/class/drm"
    (base / "card0").mkdir(parents=True)  # the card itself is no connector
    (base / "version").write_text("drm 1.1.0\n")
    for name, (status, edid) in connectors.items():
        (base / f"card0-{name}").mkdir()
        (base / f"card0-{name}" / "status").write_text(status + "\n")
        (base / f"card0-{name}" / "edid").write_bytes(edid)
    return root


def _ctx(os_name: str, runner: FakeRunner, root: Path) -> ProbeContext:
    return ProbeContext(settings=AgentSettings(), run=runner, os_name=os_name, fs_root=root)


def _m(outcome: object) -> DisplaysMeasurement:
    m = getattr(outcome, "measurement", None)
    assert isinstance(m, DisplaysMeasurement)
    return m


def test_argv_per_os_is_a_pure_table() -> None:
    assert argv_for("linux", "xrandr") == ["xrandr", "--props"]
    assert argv_for("darwin", "ioreg") == ["ioreg", "-lw0", "-r", "-c", "IODisplay"]
    assert argv_for("darwin", "ioreg-arm") == ["ioreg", "-lw0", "-r", "-c", "AppleCLCD2"]
    assert argv_for("darwin", "system_profiler") == ["system_profiler", "SPDisplaysDataType", "-json"]
    win = argv_for("windows", "wmi")
    assert win[:3] == ["powershell.exe", "-NoProfile", "-NonInteractive"] and win[-2] == "-EncodedCommand"
    assert base64.b64decode(win[-1]).decode("utf-16-le") == SCRIPT
    for word in ("WmiMonitorID", "WmiMonitorConnectionParams", "Device Parameters", "ConvertTo-Json"):
        assert word in SCRIPT
    with pytest.raises(ValueError, match="no 'wmi' step on 'linux'"):
        argv_for("linux", "wmi")


def test_linux_reads_each_connected_drm_connector(tmp_path: Path) -> None:
    root = _drm(tmp_path, {"HDMI-A-1": ("connected", EPSON.read_bytes()),
                           "eDP-1": ("connected", PANEL.read_bytes()), "DP-1": ("disconnected", b"")})
    runner = FakeRunner({})
    out = run(_ctx("linux", runner, root))
    assert out.status is ProbeStatus.ok and runner.calls == []
    m = _m(out)
    assert m.source == "sysfs"
    assert [(d.output, d.connector, d.kind) for d in m.displays] == [
        ("HDMI-A-1", "HDMI", "projector"), ("eDP-1", "internal", "internal_panel")]
    assert m.displays[0].where == "/sys/class/drm/card0-HDMI-A-1/edid"
    assert (m.display_count, m.external_count, m.projector_count, m.projection_count) == (2, 1, 1, 1)
    assert (m.internal_panel_count, m.unknown_count, m.edid_problem_count) == (1, 0, 0)


def test_linux_connected_without_edid_is_kept_and_degraded(tmp_path: Path) -> None:
    root = _drm(tmp_path, {"HDMI-A-2": ("connected", b"")})
    out = run(_ctx("linux", FakeRunner({}), root))
    assert out.status is ProbeStatus.degraded and "broken or unreadable EDID" in (out.reason or "")
    (d,) = _m(out).displays
    assert (d.kind, d.connector) == ("unknown", "HDMI")
    assert d.problems == ["the output reports a display but gives no EDID"]


def test_linux_without_drm_or_xrandr_is_unavailable_not_an_empty_ok(tmp_path: Path) -> None:
    out = run(_ctx("linux", FakeRunner({}), tmp_path))
    assert out.status is ProbeStatus.unavailable
    assert out.reason == "no /sys/class/drm (no graphics device, or a container), and xrandr is not installed"


def test_linux_nothing_connected_and_no_x_session(tmp_path: Path) -> None:
    root = _drm(tmp_path, {"HDMI-A-1": ("disconnected", b""), "DP-1": ("disconnected", b"")})
    runner = FakeRunner({"xrandr": CommandResult(1, "", "Can't open display \n")})
    out = run(_ctx("linux", runner, root))
    assert out.status is ProbeStatus.unavailable
    assert out.reason == ("no connected display on the DRM connectors (DP-1: disconnected, "
                          "HDMI-A-1: disconnected), and xrandr failed: Can't open display")


def test_linux_falls_back_to_xrandr_when_the_driver_exposes_no_connector(tmp_path: Path) -> None:
    (tmp_path / "sys/class/drm").mkdir(parents=True)  # e.g. NVIDIA's proprietary driver
    text = (FIX / "tools/linux/xrandr/jc-xrandr-props-lvds1-vga1.txt").read_text(encoding="utf-8")
    runner = FakeRunner({"xrandr": CommandResult(0, text)})
    out = run(_ctx("linux", runner, tmp_path))
    assert runner.calls == [["xrandr", "--props"]]
    assert _m(out).source == "xrandr" and [d.kind for d in _m(out).displays] == ["internal_panel", "monitor"]


def test_windows_runs_the_script_and_reads_its_json(tmp_path: Path) -> None:
    # The JSON is built for the test around a real EDID (no real capture of the script's output exists).
    body = json.dumps([{"InstanceName": "DISPLAY\\SECA610\\5&1&0&UID4357_0", "Active": True,
                        "VideoOutputTechnology": 5, "EDID": EPSON.read_bytes().hex()}])
    runner = FakeRunner({"powershell.exe": CommandResult(0, body)})
    out = run(_ctx("windows", runner, tmp_path))
    assert runner.calls == [argv_for("windows", "wmi")]
    (d,) = _m(out).displays
    assert (out.status, d.kind, d.connector, d.source) == (ProbeStatus.ok, "projector", "HDMI", "wmi")


@pytest.mark.parametrize(("answer", "status", "reason"), [
    (CommandResult(0, "[]"), ProbeStatus.unavailable, "WMI lists no active monitor"),
    (CommandResult(1, "", "Get-CimInstance : denied"), ProbeStatus.error, "PowerShell failed: Get-Cim"),
    (TimeoutError("powershell.exe did not finish within 15 s"), ProbeStatus.unavailable, "timed out"),
    (CommandResult(0, "{not json"), ProbeStatus.error, "unexpected tool output"),
])
def test_windows_failures_are_values(answer: CommandResult | Exception, status: ProbeStatus, reason: str,
                                     tmp_path: Path) -> None:
    out = run(_ctx("windows", FakeRunner({"powershell.exe": answer}), tmp_path))
    assert out.status is status and reason in (out.reason or "")


def test_windows_without_powershell(tmp_path: Path) -> None:
    out = run(_ctx("windows", FakeRunner({}), tmp_path))
    assert (out.status, out.reason) == (ProbeStatus.unavailable, "PowerShell not found")


def test_macos_reads_ioreg_and_falls_back_to_system_profiler(tmp_path: Path) -> None:
    apple_display = (FIX / "tools/macos/ioreg/glpi-AppleDisplay.txt").read_text(encoding="utf-8")
    runner = FakeRunner({"ioreg -lw0": CommandResult(0, apple_display)})
    out = run(_ctx("darwin", runner, tmp_path))
    assert [c[-1] for c in runner.calls] == ["IODisplay", "AppleCLCD2"]
    assert _m(out).source == "ioreg" and _m(out).displays[0].name == "DELL 1708FP"

    sp = (FIX / "tools/macos/system_profiler-json/unnamed-go-comment-m1-color-lcd.json").read_text("utf-8")
    runner = FakeRunner({"ioreg -lw0": CommandResult(0, ""), "system_profiler": CommandResult(0, sp)})
    out = run(_ctx("darwin", runner, tmp_path))
    assert _m(out).source == "system_profiler" and _m(out).displays[0].kind == "internal_panel"
    assert runner.calls[-1] == ["system_profiler", "SPDisplaysDataType", "-json"]


def test_an_os_without_a_reader(tmp_path: Path) -> None:
    out = run(_ctx("freebsd", FakeRunner({}), tmp_path))
    assert (out.status, out.reason) == (ProbeStatus.unavailable, "no display reader for freebsd")


def test_the_probe_is_registered_and_on_by_default() -> None:
    assert registry.get("displays").run is run
    assert "displays" in AgentSettings().probes.enabled


def test_the_counts_are_metrics_the_rules_read_and_the_displays_are_not(tmp_path: Path) -> None:
    root = _drm(tmp_path, {"HDMI-A-1": ("connected", EPSON.read_bytes()),
                           "eDP-1": ("connected", PANEL.read_bytes())})
    m = _m(run(_ctx("linux", FakeRunner({}), root)))
    report = Report(report_id=uuid.uuid4(), agent_version="0.1.0",
                    device=DeviceIdentity(instance_id=uuid.uuid4(), hostname="pc-cm1"), school_uai="0350122T",
                    room="CM1", taken_at=datetime(2026, 11, 20, 2, 13, tzinfo=UTC),
                    results=[ProbeResult(probe="displays", status=ProbeStatus.ok, duration_s=0.01,
                                         measurement=m)])
    again = Report.model_validate_json(report.model_dump_json())
    assert again == report
    values = dict(zip(report_columns(again).metrics, report_columns(again).values, strict=True))
    assert values == {
        "displays.display_count": 2.0, "displays.external_count": 1.0, "displays.projector_count": 1.0,
        "displays.interactive_display_count": 0.0, "displays.projection_count": 1.0, "displays.tv_count": 0.0,
        "displays.monitor_count": 0.0, "displays.internal_panel_count": 1.0, "displays.unknown_count": 0.0,
        "displays.edid_problem_count": 0.0}


@pytest.mark.skipif(Path("/sys/class/drm").exists() or shutil.which("xrandr") is not None,
                    reason="this machine has a display stack; the check is for a headless one")
def test_on_this_headless_machine_probe_displays_says_unavailable_and_why(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["--state-dir", str(tmp_path), "probe", "displays"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("displays: unavailable in ")
    assert "no /sys/class/drm" in out and "xrandr is not installed" in out
