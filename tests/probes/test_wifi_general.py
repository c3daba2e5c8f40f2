"""What the Wi-Fi reading must do on any real output: relabelled layouts, any input, several cards.

The relabelled-layout tests feed every netsh and nmcli fixture with its labels
(netsh) or header and field names (nmcli) replaced by unknown words, the
layout kept, and check the values still come out the same: that is what "any
language" means. The property tests feed every parser arbitrary text and
check it ends in a value or a clear error, never an exception, and never a
number the input does not contain.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.wire import ProbeStatus
from probes.wifi.detect import PARSERS, parse_output
from probes.wifi.nmcli import parse_nmcli
from probes.wifi.windows import parse_netsh_interfaces, parse_netsh_networks
from tests.conftest import FIXTURES, ROOT

FIX = FIXTURES / "wifi"
NETSH = sorted(p for p in (FIX / "windows").rglob("*.txt"))
NMCLI = sorted((FIX / "linux" / "nmcli").glob("*.txt"))


def _relabel_netsh(text: str) -> str:
    """Every label replaced by an unknown word of another length; ``SSID n`` numbering kept."""
    out = []
    for i, line in enumerate(text.splitlines()):
        m = re.match(r"^(\s*)(.*?)([\s\u00a0]*:(?:[\s\u00a0].*)?)$", line)
        if m and m.group(2) and not m.group(2).startswith("#"):
            tail = re.search(r"\s\d+$", m.group(2))
            out.append(m.group(1) + "Qz" + "w" * (i % 5) + (tail.group(0) if tail else "") + m.group(3))
        else:
            out.append(line)
    return "\n".join(out)


def _relabel_nmcli(text: str) -> str:
    """Header words and --fields names replaced by unknown words of the same width."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if "nmcli" in line:
            lines[i] = re.sub(r"(--fields|-f)\s+(\S+)", lambda m: m.group(1) + " " + ",".join(
                "x" * len(f) for f in m.group(2).split(",")), line)
        elif re.match(r"^\s*(IN-USE|SSID|\*\s+SSID)\b", line):
            lines[i] = re.sub(r"\S+", lambda m: "Q" * len(m.group(0)), line)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("path", NETSH, ids=lambda p: p.name)
def test_netsh_values_come_out_with_unknown_labels(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if "networks" in path.parent.name:
        if "ms-settings" in text:
            return
        assert parse_netsh_networks(_relabel_netsh(text)) == parse_netsh_networks(text)
    else:
        plain, moved = parse_netsh_interfaces(text), parse_netsh_interfaces(_relabel_netsh(text))
        assert moved.status is plain.status
        assert moved.measurement is not None and plain.measurement is not None
        assert moved.measurement.model_dump() == plain.measurement.model_dump()


@pytest.mark.parametrize("path", NMCLI, ids=lambda p: p.name)
def test_nmcli_values_come_out_with_unknown_header(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    plain, moved = parse_nmcli(text), parse_nmcli(_relabel_nmcli(text))
    assert moved.status is plain.status
    assert plain.measurement is not None and moved.measurement is not None
    assert [n.model_dump() for n in moved.measurement.neighbours] == \
        [n.model_dump() for n in plain.measurement.neighbours]
    assert moved.measurement.ssid == plain.measurement.ssid


def test_second_card_is_reported_beside_the_connected_one() -> None:
    rel = "linux/iw-dev/issue-rtw89-23-iw-dev-mld-and-idle-internal-card.txt"
    _, out = parse_output((FIX / rel).read_bytes())
    m = out.measurement
    assert m is not None
    assert [(o.interface, o.connected) for o in m.other_interfaces] == [("wlp0s20f3", False)]  # type: ignore[attr-defined]
    assert [(lk.link_id, lk.in_use) for lk in m.links] == [(0, None), (1, True)]  # type: ignore[attr-defined]


def test_multi_link_keeps_each_link_and_the_mld_address() -> None:
    rel = "linux/iw-link/issue-rtw89-23-rtl8912au-iw-link-mlo-two-links.txt"
    _, out = parse_output((FIX / rel).read_bytes())
    m = out.measurement
    assert m is not None
    links = [(lk.bssid, lk.frequency_mhz, lk.in_use) for lk in m.links]  # type: ignore[attr-defined]
    assert links == [("ce:28:aa:5e:40:58", 2427, None), ("ce:28:aa:4e:40:59", 5180, True)]


@pytest.mark.parametrize("rel", [
    "linux/iwconfig/issue-carambola-9-iwconfig-ap-masked.txt",
    "windows/netsh-interfaces/issue-nodewifi-184-interfaces-en-win11-masked.txt",
    "macos/airport-s/accesspoints-osx-test-masked.txt",
])
def test_masked_address_is_masked_not_another_field(rel: str) -> None:
    _, out = parse_output((FIX / rel).read_bytes())
    m = out.measurement
    assert m is not None and m.bssid is None  # type: ignore[attr-defined]
    assert "masked" in m.missing["bssid"]


def test_unsplittable_nmcli_row_is_unreadable_not_invented() -> None:
    text = ("IN-USE  BSSID              SSID  MODE   CHAN  RATE        SIGNAL  BARS  SECURITY\n"
            "*       A0:39:EE:A2:FA:1F  LAG   Infra  112   405 Mbit/s  100     ▂▄▆█  WPA2\n"
            "        A2:39:EE:A2:FB:12 garbled-row-without-columns\n")
    out = parse_nmcli(text)
    m = out.measurement
    assert m is not None and len(m.neighbours) == 1  # type: ignore[attr-defined]
    assert "1 row" in m.missing["neighbours"]


def test_wifi_json_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    fixture = FIX / "windows/netsh-networks/wifiheatmapper-networks-blank-ssid-en.txt"
    code = ("import sys; from agent.cli import main; "
            f"sys.exit(main(['--state-dir', {str(tmp_path)!r}, 'wifi', '--from-file', {str(fixture)!r}]))")
    proc = subprocess.run(f"{sys.executable} -c \"{code}\" | head -c 10", shell=True,
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr


_NUMBERS = re.compile(r"-?\d+(?:[.,]\d+)?")


def _numbers_in(text: str) -> set[float]:
    return {float(x.replace(",", ".")) for x in _NUMBERS.findall(text)}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tool=st.sampled_from(sorted(PARSERS)), data=st.one_of(
    st.text(max_size=400),
    st.binary(max_size=400).map(lambda b: b.decode("utf-8", "replace")),
    st.sampled_from([p for p in FIX.rglob("*.txt")]).flatmap(
        lambda p: st.tuples(st.just(p.read_text(encoding="utf-8")), st.integers(0, 4000), st.randoms())
    ).map(lambda t: "\n".join(t[2].sample(t[0][:t[1]].splitlines(), len(t[0][:t[1]].splitlines())))),
))
def test_any_input_gives_a_value_or_a_clear_error(tool: str, data: str) -> None:
    got_tool, out = parse_output(data.encode("utf-8", "surrogatepass"), tool=tool)
    assert got_tool == tool
    if out.status is ProbeStatus.error:
        assert out.reason
        return
    m = out.measurement
    assert m is not None
    found = _numbers_in(data)
    for field in ("signal_dbm", "noise_dbm", "signal_quality_pct", "channel", "rx_rate_mbps", "tx_rate_mbps"):
        value = getattr(m, field, None)
        if value is not None and field != "channel":
            assert float(value) in found or abs(float(value)) in found, (field, value)
