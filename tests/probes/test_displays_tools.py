"""Saved outputs of the display tools of each OS parse to the values read by hand from the files.

Real outputs are under tests/fixtures/displays/tools (SOURCES.md). The Windows
JSON of Socle's own script and ``reg query`` listings were not found as real
captures: those tests build the text around a real EDID from the fixtures and
say so; the shape follows the commands' documented output.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.cli import main
from config.wire import ProbeStatus
from probes.displays.detect import detect_tool, parse_output
from probes.displays.macos import parse_ioreg, parse_system_profiler, parse_system_profiler_json
from probes.displays.windows import parse_reg_query, parse_wmi_json, parse_wmi_list
from tests.conftest import FIXTURES

FIX = FIXTURES / "displays"
TOOLS = FIX / "tools"


def _read(rel: str) -> str:
    return (TOOLS / rel).read_text(encoding="utf-8")


# ---- every fixture is recognised from its content alone

@pytest.mark.parametrize(("rel", "tool"), [
    ("linux/xrandr/jc-xrandr-props-lvds1-vga1.txt", "xrandr"),
    ("linux/xrandr/jc-xrandr-props-issue525-edp1.txt", "xrandr"),
    ("linux/xrandr/issue-automirror-3-projector-dp1-no-mm.txt", "xrandr"),
    ("macos/system_profiler/glpi-10.6.5-dual-monitor.txt", "system_profiler"),
    ("macos/system_profiler/glpi-asus-geforce-gt-730.txt", "system_profiler"),
    ("macos/system_profiler/glpi-dual-display-475.txt", "system_profiler"),
    ("macos/system_profiler/glpi-mojave-dual-video-cards.txt", "system_profiler"),
    ("macos/system_profiler/glpi-11.0-apple-M1.txt", "system_profiler"),
    ("macos/system_profiler-json/unnamed-go-comment-m1-color-lcd.json", "system_profiler-json"),
    ("macos/ioreg/glpi-AppleDisplay.txt", "ioreg"),
    ("macos/ioreg/glpi-AppleBacklightDisplay.txt", "ioreg"),
    ("macos/ioreg/glpi-AppleCLCD2.txt", "ioreg"),
    ("macos/ioreg/glpi-AppleCLCD2-2.txt", "ioreg"),
    ("windows/wmi/unnamed-note-get-wmiobject-wmimonitorid.txt", "wmi-list"),
    ("../edid/linuxhw/SECA514-46FD547BEEF9.txt", "edid-hex"),
    ("../edid/linuxhw/SECA514-46FD547BEEF9.bin", "edid"),
])
def test_each_saved_output_is_recognised(rel: str, tool: str) -> None:
    assert detect_tool((TOOLS / rel).read_bytes()) == tool


# ---- Linux: xrandr

def test_xrandr_props_laptop_panel_and_vga_monitor() -> None:
    _, out = parse_output((TOOLS / "linux/xrandr/jc-xrandr-props-lvds1-vga1.txt").read_bytes())
    assert out.status is ProbeStatus.ok
    m = out.measurement
    lvds, vga = m.displays  # HDMI-1 and DP-1 are disconnected
    assert (lvds.output, lvds.connector, lvds.kind) == ("LVDS-1", "internal", "internal_panel")
    assert (lvds.pnp_id, lvds.product_code_hex, lvds.name) == ("SEC", "3152", None)
    assert lvds.alnum_strings == ["SAMSUNG", "LTN156AT24401"]
    assert (lvds.width_cm, lvds.height_cm) == (34, 19)
    assert (lvds.preferred_width_px, lvds.preferred_height_px) == (1366, 768)
    assert (vga.output, vga.connector, vga.kind) == ("VGA-1", "VGA", "monitor")
    assert (vga.pnp_id, vga.name, vga.serial) == ("ACI", "ASUS VW193S", "78L8021107")
    assert (vga.year, vga.week) == (2007, 32)
    assert (vga.width_cm, vga.height_cm, vga.digital) == (41, 26, False)
    assert (m.display_count, m.external_count, m.monitor_count, m.internal_panel_count) == (2, 1, 1, 1)
    assert m.projection_count == 0


def test_xrandr_props_edp_panel() -> None:
    _, out = parse_output((TOOLS / "linux/xrandr/jc-xrandr-props-issue525-edp1.txt").read_bytes())
    (panel,) = out.measurement.displays
    assert (panel.output, panel.kind) == ("eDP-1", "internal_panel")
    assert (panel.pnp_id, panel.product_code_hex) == ("AUO", "573D")
    assert panel.alnum_strings == ["AUO", "B140HAN05.7"]
    assert (panel.year, panel.week, panel.width_cm, panel.height_cm) == (2018, None, 31, 17)
    assert "week" in panel.missing


def test_plain_xrandr_projector_without_edid_is_unknown_and_says_why() -> None:
    _, out = parse_output((TOOLS / "linux/xrandr/issue-automirror-3-projector-dp1-no-mm.txt").read_bytes())
    (dp1,) = out.measurement.displays
    assert (dp1.output, dp1.connector, dp1.kind) == ("DP1", "DisplayPort", "unknown")
    assert dp1.pnp_id is None and dp1.width_cm is None and dp1.edid_hex is None
    assert "plain xrandr does not print the EDID" in dp1.problems[0]
    assert out.status is ProbeStatus.degraded and out.measurement.edid_problem_count == 1


# ---- macOS: system_profiler, ioreg

def test_system_profiler_dual_monitor_flagged_television_is_not_taken_for_a_tv() -> None:
    displays = parse_system_profiler(_read("macos/system_profiler/glpi-10.6.5-dual-monitor.txt"))
    assert [d.name for d in displays] == ["E2441", "E2441"]  # the empty "Display Connector" is no display
    for d in displays:
        assert (d.preferred_width_px, d.preferred_height_px, d.preferred_refresh_hz) == (1920, 1080, 60.0)
        assert d.kind == "unknown" and "television" in d.kind_reason
        assert d.serial is None


def test_system_profiler_dell_monitor() -> None:
    (d,) = parse_system_profiler(_read("macos/system_profiler/glpi-asus-geforce-gt-730.txt"))
    assert (d.name, d.serial) == ("DELL SE2416H", "P7HT871G1H9L")
    assert (d.preferred_width_px, d.kind) == (1920, "monitor")


@pytest.mark.parametrize(("rel", "width"), [
    ("macos/system_profiler/glpi-dual-display-475.txt", 2880),
    ("macos/system_profiler/glpi-mojave-dual-video-cards.txt", 2880),
    ("macos/system_profiler/glpi-11.0-apple-M1.txt", 2560),
])
def test_system_profiler_built_in_retina_panels(rel: str, width: int) -> None:
    (d,) = parse_system_profiler(_read(rel))
    assert (d.name, d.connector, d.kind) == ("Color LCD", "internal", "internal_panel")
    assert d.preferred_width_px == width


def test_system_profiler_json_m1_panel() -> None:
    text = _read("macos/system_profiler-json/unnamed-go-comment-m1-color-lcd.json")
    (d,) = parse_system_profiler_json(text)
    assert (d.name, d.pnp_id, d.product_code_hex) == ("Color LCD", "APP", "A045")
    assert (d.connector, d.kind) == ("internal", "internal_panel")
    assert (d.preferred_width_px, d.preferred_height_px) == (3360, 2100)


def test_ioreg_intel_mac_external_monitor_from_its_edid() -> None:
    (d,) = parse_ioreg(_read("macos/ioreg/glpi-AppleDisplay.txt"))
    assert (d.pnp_id, d.product_code, d.name, d.serial) == ("DEL", 16419, "DELL 1708FP", "C891H87R2GUS")
    assert (d.width_cm, d.height_cm, d.kind, d.source) == (34, 27, "monitor", "ioreg")
    assert d.edid_hex is not None and d.edid_hex.startswith("00ffffffffffff0010ac2340")


def test_ioreg_intel_mac_backlight_display_is_the_built_in_panel() -> None:
    (d,) = parse_ioreg(_read("macos/ioreg/glpi-AppleBacklightDisplay.txt"))
    assert (d.pnp_id, d.product_code, d.name, d.connector, d.kind) == ("APP", 0xA02A, "Color LCD", "internal",
                                                                       "internal_panel")
    assert (d.width_cm, d.height_cm, d.preferred_width_px, d.preferred_height_px) == (29, 18, 2560, 1600)


def test_ioreg_apple_silicon_external_monitors_and_built_in_panel() -> None:
    displays = parse_ioreg(_read("macos/ioreg/glpi-AppleCLCD2-2.txt"))
    assert [d.kind for d in displays] == ["internal_panel", "monitor", "monitor"]
    built_in, first, second = displays
    assert (built_in.connector, built_in.manufacturer) == ("internal", "Apple")
    assert built_in.preferred_width_px == 3024
    assert (first.pnp_id, first.name, first.serial) == ("DEL", "DELL P2421DC", "9D5RR63")
    assert (first.serial_number, first.product_code, first.year, first.week) == (809649484, 53496, 2021, 43)
    assert (first.width_cm, first.height_cm) == (53, 30)
    assert (first.connector, second.serial) == ("DisplayPort", "5LWQR63")
    assert "edid_hex" in first.missing


# ---- Windows

def test_wmi_list_output_gives_maker_and_product_but_says_the_names_are_cut() -> None:
    sam, bnq = parse_wmi_list(_read("windows/wmi/unnamed-note-get-wmiobject-wmimonitorid.txt"))
    assert (sam.pnp_id, sam.product_code_hex, sam.year, sam.week) == ("SAM", "0D2C", 2019, 22)
    assert (bnq.pnp_id, bnq.product_code_hex, bnq.year, bnq.week) == ("BNQ", "7F58", 2019, 16)
    assert sam.where == "DISPLAY\\SAM0D2C\\4&29c712e5&0&UID214595_0"
    assert sam.name is None and "four characters" in sam.missing["name"]
    assert sam.kind == bnq.kind == "unknown"


def _edid_hex(rel: str) -> str:
    return (FIX / "edid" / rel).read_bytes().hex()


def test_wmi_json_of_socles_script_joins_identity_connection_and_registry_edid() -> None:
    # Built for the test: the shape of SCRIPT's ConvertTo-Json output, around real EDIDs.
    text = json.dumps([
        {"InstanceName": "DISPLAY\\SECA610\\5&1a2b&0&UID4357_0", "Active": True, "VideoOutputTechnology": 5,
         "ManufacturerName": [83, 69, 67, 0], "EDID": _edid_hex("linuxhw/SECA610-F5819F694D53.bin")},
        {"InstanceName": "DISPLAY\\CMN13A9\\4&9f&0&UID8388688_0", "Active": True,
         "VideoOutputTechnology": 2147483648, "EDID": _edid_hex("linuxhw/CMN13A9-5B6D6631F883.bin")},
        {"InstanceName": "DISPLAY\\DEL4023\\5&1&0&UID1_0", "Active": True, "VideoOutputTechnology": 0,
         "ManufacturerName": [68, 69, 76, 0], "ProductCodeID": [52, 48, 50, 51, 0],
         "UserFriendlyName": [68, 69, 76, 76, 32, 49, 55, 48, 56, 70, 80, 0], "YearOfManufacture": 2008,
         "WeekOfManufacture": 7, "EDID": None},
        {"InstanceName": "DISPLAY\\GSM0001\\5&2&0&UID2_0", "Active": False, "EDID": None},
    ])
    epson, panel, dell = parse_wmi_json(text)
    assert (epson.connector, epson.kind, epson.name, epson.source) == ("HDMI", "projector", "EPSON PJ", "wmi")
    assert (panel.connector, panel.kind) == ("internal", "internal_panel")
    assert (dell.pnp_id, dell.product_code_hex, dell.name) == ("DEL", "4023", "DELL 1708FP")
    assert (dell.year, dell.week) == (2008, 7)
    assert (dell.connector, dell.kind) == ("VGA", "monitor")
    assert "registry" in dell.missing["edid_hex"]


def test_reg_query_lists_every_edid_the_registry_keeps() -> None:
    # Built for the test: reg query's documented layout around a real EDID.
    key = ("HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Enum\\DISPLAY\\OTM0550\\5&2f3b3a9&0&UID4352"
           "\\Device Parameters")
    text = (f"\r\n{key}\r\n    EDID    REG_BINARY    {_edid_hex('linuxhw/OTM0550-9E3F344975D5.bin').upper()}"
            "\r\n\r\nEnd of search: 1 match(es) found.\r\n")
    assert detect_tool(text.encode()) == "reg-query"
    (d,) = parse_reg_query(text)
    assert (d.pnp_id, d.name, d.kind, d.source) == ("OTM", "Optoma WXGA", "projector", "registry")
    assert d.where == "DISPLAY\\OTM0550\\5&2f3b3a9&0&UID4352"
    assert "no longer be attached" in d.missing["connector"]


# ---- the command line

def test_displays_from_file_prints_the_json_of_a_broken_edid_with_its_problem(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(["--state-dir", str(tmp_path), "displays", "--from-file",
                 str(FIX / "edid/linuxhw/ACR2110-E4138B373A5C.txt")])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["tool"] == "edid-hex" and doc["status"] == "degraded"
    (d,) = doc["measurement"]["displays"]
    assert (d["name"], d["kind"], d["checksum_ok"]) == ("Acer H6517ST", "projector", [True, False])
    assert d["problems"] == ["bad checksum in block 1"]
    assert doc["measurement"]["projection_count"] == 1


def test_displays_from_file_refuses_what_it_cannot_read(capsys: pytest.CaptureFixture[str],
                                                        tmp_path: Path) -> None:
    junk = tmp_path / "junk.txt"
    junk.write_text("hello\n", encoding="utf-8")
    assert main(["--state-dir", str(tmp_path), "displays", "--from-file", str(junk)]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert doc["status"] == "error" and "unrecognised content" in doc["reason"]
    assert main(["--state-dir", str(tmp_path), "displays", "--from-file", str(tmp_path / "absent")]) == 2
    assert main(["--state-dir", str(tmp_path), "displays", "--tool", "edid"]) == 2


def test_displays_from_file_with_a_named_tool(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = TOOLS / "macos/ioreg/glpi-AppleDisplay.txt"
    assert main(["--state-dir", str(tmp_path), "displays", "--from-file", str(path), "--tool", "ioreg"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["measurement"]["displays"][0]["name"] == "DELL 1708FP"


def test_odd_values_from_an_os_tool_are_dropped_not_a_crash() -> None:
    # Built for the test: an AppleCLCD2 entry whose attributes are out of the EDID's ranges.
    attributes = ('{"ProductAttributes"={"ManufacturerID"="DEL","ProductID"=7000000,"WeekOfManufacture"=0,'
                  '"YearOfManufacture"=0,"ProductName"="' + "X" * 60 + '"},"MaxHorizontalImageSize"=0}')
    text = ("+-o AppleCLCD2  <class AppleCLCD2, id 0x1, registered, matched, active, busy 0 (1 ms)>\n"
            f'    {{\n      "DisplayAttributes" = {attributes}\n      "external" = Yes\n    }}\n')
    (d,) = parse_ioreg(text)
    assert (d.pnp_id, d.product_code, d.week, d.year, d.width_cm) == ("DEL", None, None, None, None)
    assert d.name == "X" * 40
