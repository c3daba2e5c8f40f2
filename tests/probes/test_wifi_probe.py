"""The Wi-Fi probe through fake command runners, and netsh read without its labels."""

from __future__ import annotations

import re
from collections.abc import Sequence

from config.wire import ProbeStatus
from probes.base import CommandResult, ProbeContext, ToolMissing
from probes.wifi import run
from probes.wifi.probe import argv_for
from probes.wifi.windows import parse_netsh_interfaces, parse_netsh_networks
from tests.conftest import FIXTURES

FIX = FIXTURES / "wifi"


def _text(rel: str) -> str:
    return (FIX / rel).read_text(encoding="utf-8")


def _runner(outputs: dict[str, str]):
    def fake(argv: Sequence[str], timeout: float) -> CommandResult:
        key = " ".join(argv)
        if key not in outputs:
            raise ToolMissing(f"{argv[0]} is not installed")
        return CommandResult(0, outputs[key])
    return fake


def test_linux_without_iw_or_nmcli_is_unavailable_with_the_reason() -> None:
    outcome = run(ProbeContext(os_name="linux", run=_runner({})))
    assert outcome.status is ProbeStatus.unavailable
    assert outcome.reason == "iw not installed, and nmcli not installed"


def test_linux_without_a_station_interface_is_unavailable() -> None:
    # an access point's radios only: nothing this machine is connected through
    ctx = ProbeContext(os_name="linux", run=_runner(
        {"iw dev": _text("linux/iw-dev/issue-mwlwifi-68-iw-dev-openwrt-ap.txt")}))
    outcome = run(ctx)
    assert outcome.status is ProbeStatus.unavailable
    assert outcome.reason == "no wireless interface"


def test_linux_link_and_scan_are_merged() -> None:
    ctx = ProbeContext(os_name="linux", run=_runner({
        "iw dev": "phy#0\n\tInterface wlan0\n\t\ttype managed\n",
        "iw dev wlan0 link": _text("linux/iw-link/wifiheatmapper-iw-dev-wlp1s0-link.txt"),
        "iw dev wlan0 scan dump": _text("linux/iw-scan/jc-centos77-iw-scan0.txt"),
    }))
    outcome = run(ctx)
    assert outcome.status is ProbeStatus.ok
    m = outcome.measurement
    assert m.signal_dbm == -51 and m.channel == 1 and m.ssid == "SSID-1"  # type: ignore[union-attr]
    assert [n.ssid for n in m.neighbours] == ["Cisco1240", "Cisco1250"]  # type: ignore[union-attr]
    assert m.same_channel_networks == 1  # type: ignore[union-attr]  # Cisco1240, channel 1


def test_windows_location_denied_is_unavailable_never_a_number() -> None:
    ctx = ProbeContext(os_name="windows", run=_runner({
        "netsh wlan show interfaces":
            _text("windows/netsh-interfaces/wifiheatmapper-interfaces-location-denied-en.txt")}))
    outcome = run(ctx)
    assert outcome.status is ProbeStatus.unavailable
    assert "location" in (outcome.reason or "")
    assert outcome.measurement.signal_quality_pct is None  # type: ignore[union-attr]


def test_windows_french_link_with_neighbours() -> None:
    ctx = ProbeContext(os_name="windows", run=_runner({
        "netsh wlan show interfaces": _text("windows/netsh-interfaces/wifiheatmapper-interfaces-fr.txt"),
        "netsh wlan show networks mode=bssid": _text("windows/netsh-networks/wifiheatmapper-networks-fr.txt"),
    }))
    outcome = run(ctx)
    m = outcome.measurement
    assert outcome.status is ProbeStatus.ok
    assert (m.channel, m.signal_quality_pct, m.signal_dbm) == (11, 80, None)  # type: ignore[union-attr]
    assert len(m.neighbours) == 8  # type: ignore[union-attr]
    assert m.same_channel_networks == 1  # type: ignore[union-attr]  # fe:dc:ba:09:87:08 on 11


def test_macos_unprivileged_uses_system_profiler() -> None:
    ctx = ProbeContext(os_name="darwin", run=_runner({
        " ".join(argv_for("darwin", "link")):
            _text("macos/system_profiler/wifiheatmapper-mac-sp_15.5-wifi-disabled.json")}))
    outcome = run(ctx)
    assert outcome.status is ProbeStatus.unavailable
    assert outcome.reason == "Wi-Fi is switched off"


def test_unknown_os_is_unavailable() -> None:
    assert run(ProbeContext(os_name="plan9")).status is ProbeStatus.unavailable


def _scramble_labels(text: str) -> str:
    """Every label replaced by nonsense of another length: only structure and values remain."""
    out = []
    for i, line in enumerate(text.splitlines()):
        m = re.match(r"^(\s*)(.*?)(\s*:(?:\s.*)?)$", line)
        if m and m.group(2) and not m.group(2).startswith("#"):
            label = m.group(2)
            tail = re.search(r"\s\d+$", label)  # keep "SSID 3" / "BSSID 2" numbering
            junk = "Zq" + "x" * (i % 7) + (tail.group(0) if tail else "")
            if unit := re.search(r"\(\s*mbit?s?/s\s*\)|\(\s*mbps\s*\)", label, re.I):
                junk += " " + unit.group(0)  # the unit is kept: it tells rates from channels
            out.append(m.group(1) + junk + m.group(3))
        else:
            out.append(line)
    return "\n".join(out)


def test_netsh_parsing_does_not_read_labels() -> None:
    for rel in ("windows/netsh-interfaces/wifiheatmapper-interfaces-en.txt",
                "windows/netsh-interfaces/wifiheatmapper-interfaces-de.txt"):
        plain = parse_netsh_interfaces(_text(rel)).measurement
        scrambled = parse_netsh_interfaces(_scramble_labels(_text(rel))).measurement
        assert plain is not None and scrambled is not None
        assert scrambled.model_dump() == plain.model_dump()
    rel = "windows/netsh-networks/wifiheatmapper-networks-en.txt"
    assert parse_netsh_networks(_scramble_labels(_text(rel))) == parse_netsh_networks(_text(rel))
