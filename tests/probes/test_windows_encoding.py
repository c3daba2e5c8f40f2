"""Windows tools' output in the console's code page, through the real command runner.

These run on Linux as a simulation: :class:`probes.base.SystemRunner` is the
runner the agent uses on Windows, given ``os_name="windows"``, a code page
(what ``GetConsoleOutputCP``/``GetOEMCP`` answer on that Windows) and a
``spawn`` that hands back the bytes netsh would have written. Those bytes are
the real fixtures (tests/fixtures/wifi/windows, the same files as
/work/shared/fixtures/wifi/windows) encoded in the OEM code page of their
language: cp850 for French, German, Spanish, Italian and Dutch, cp936 for
Chinese, cp866 for Russian, cp932 for Japanese. Two characters of the French captures (U+2019, the
typographic apostrophe of "Type d’interface") have no cp850 byte; Windows'
best-fit conversion writes them as ``'``, and so do these tests.
The Spanish capture ``nodewifiscanner-netsh-sp-cp850-mojibake.txt`` is the one
real cp850 byte stream among them: its upstream stored the bytes read as
Latin-1, so encoding the text back to Latin-1 gives the bytes netsh wrote.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from config.wire import ProbeStatus, WifiMeasurement
from probes.base import ProbeContext, SystemRunner
from probes.encoding import decode_output, output_encoding, windows_code_page
from probes.wifi import probe as wifi_probe
from probes.wifi.detect import PARSERS, detect_tool
from tests.conftest import FIXTURES
from tests.probes.test_wifi_parsers import CASES, NEIGHBOURS

WIN = FIXTURES / "wifi" / "windows"
MOJIBAKE = "netsh-networks/nodewifiscanner-netsh-sp-cp850-mojibake.txt"


def _code_page(name: str) -> str:
    if "zh-cn" in name:
        return "cp936"
    if "-ru-" in name:
        return "cp866"
    if "-ja-" in name:
        return "cp932"
    return "cp850"


def _as_windows_wrote_it(rel: str) -> tuple[bytes, str, str]:
    """(bytes on the pipe, their code page, the text Windows meant)."""
    text = (WIN / rel).read_text(encoding="utf-8")
    if rel == MOJIBAKE:
        raw = text.encode("latin-1")
        return raw, "cp850", raw.decode("cp850")
    text = text.replace("\u2019", "'")  # Windows' best fit: no cp850 byte for it
    cp = _code_page(rel)
    return text.encode(cp), cp, text


def _recorded(outputs: dict[tuple[str, ...], bytes]):
    """A ``spawn`` that returns what the real tool printed for each command line."""
    def spawn(argv, **kwargs):
        assert kwargs["capture_output"] is True
        return subprocess.CompletedProcess(argv, 0, outputs[tuple(argv)], b"")
    return spawn


WINDOWS_FILES = sorted(str(p.relative_to(WIN)) for p in WIN.rglob("*.txt"))


@pytest.mark.parametrize("rel", WINDOWS_FILES)
def test_every_windows_fixture_reads_right_in_its_code_page(rel: str) -> None:
    raw, cp, meant = _as_windows_wrote_it(rel)
    argv = ("netsh", "wlan", "show", "interfaces")
    runner = SystemRunner(os_name="windows", code_page=lambda: cp, spawn=_recorded({argv: raw}))
    out = runner(list(argv), timeout=5).stdout
    assert out == meant
    assert "\ufffd" not in out
    tool = detect_tool(out.encode("utf-8"))
    assert tool == CASES[f"windows/{rel}"][0]
    outcome = PARSERS[tool](out)
    _, status, expected, n_neighbours = CASES[f"windows/{rel}"]
    assert outcome.status is status
    m = outcome.measurement
    assert m is not None
    for field, value in expected.items():
        assert getattr(m, field) == value, field
    assert len(m.neighbours) == n_neighbours
    for (case, bssid), values in NEIGHBOURS.items():
        if case == f"windows/{rel}":
            net = m.neighbours[0] if bssid is None else next(n for n in m.neighbours if n.bssid == bssid)
            for field, value in values.items():
                assert getattr(net, field) == value, (bssid, field)


def test_utf8_decoding_of_cp850_is_what_went_wrong() -> None:
    """The defect this guards against: the same bytes read as UTF-8 lose every accent, and the French
    scan no longer parses at all."""
    from probes.wifi.common import ParseError
    from probes.wifi.windows import outcome_netsh_networks

    raw, _, meant = _as_windows_wrote_it("netsh-interfaces/wifiheatmapper-interfaces-fr.txt")
    linux = SystemRunner(os_name="linux", spawn=_recorded({("netsh",): raw}))(["netsh"], 5).stdout
    assert "État" in meant and "État" not in linux and "\ufffd" in linux
    scan, _, _ = _as_windows_wrote_it("netsh-networks/wifiheatmapper-networks-fr.txt")
    with pytest.raises(ParseError):
        outcome_netsh_networks(scan.decode("utf-8", "replace"))
    assert len(outcome_netsh_networks(scan.decode("cp850")).measurement.neighbours) == 8  # type: ignore[union-attr]


def test_the_wifi_probe_on_a_french_windows_reads_link_and_neighbours() -> None:
    """The whole probe, both netsh calls, through the real runner in cp850."""
    link, _, _ = _as_windows_wrote_it("netsh-interfaces/wifiheatmapper-interfaces-fr.txt")
    scan, _, _ = _as_windows_wrote_it("netsh-networks/wifiheatmapper-networks-fr.txt")
    runner = SystemRunner(os_name="windows", code_page=lambda: "cp850", spawn=_recorded({
        tuple(wifi_probe.argv_for("windows", "link")): link,
        tuple(wifi_probe.argv_for("windows", "scan")): scan}))
    outcome = wifi_probe.run(ProbeContext(os_name="windows", run=runner))
    assert outcome.status is ProbeStatus.ok, outcome.reason
    m = outcome.measurement
    assert isinstance(m, WifiMeasurement)
    assert (m.interface, m.ssid, m.channel, m.band, m.security) == ("Wi-Fi", "SSID-1", 11, "2.4GHz", "open")
    assert (m.rx_rate_mbps, m.tx_rate_mbps, m.signal_quality_pct) == (103, 206, 80)
    assert len(m.neighbours) == 8


def test_an_accented_ssid_survives_cp850() -> None:
    """Not a capture: one line in cp850, to show an SSID like the issue's ``ÉCOLE-PÉDA`` keeps its
    accents (no fixture holds an accented SSID)."""
    line = "    SSID                   : ÉCOLE-PÉDA\r\n".encode("cp850")
    assert decode_output(line, "cp850").strip().endswith("ÉCOLE-PÉDA")
    assert "\ufffd" in line.decode("utf-8", "replace")


def test_a_real_process_through_the_runner(tmp_path: Path) -> None:
    """No fake spawn: a real child writes the cp850 bytes on its stdout pipe."""
    raw, _, meant = _as_windows_wrote_it(MOJIBAKE)
    (tmp_path / "out").write_bytes(raw)
    runner = SystemRunner(os_name="windows", code_page=lambda: "cp850")
    res = runner([sys.executable, "-c", "import sys; sys.stdout.buffer.write(open(sys.argv[1], 'rb')"
                  ".read())", str(tmp_path / "out")], timeout=30)
    assert res.stdout == meant
    assert "Conexión de red inalámbrica" in res.stdout and "Señal" in res.stdout


def test_byte_order_marks_win_over_the_code_page() -> None:
    text = "Nom : Wi-Fi — État : connecté"
    assert decode_output("\ufeff".encode() + text.encode(), "cp850") == text
    assert decode_output(text.encode("utf-16"), "cp850") == text


def test_windows_code_page_names() -> None:
    assert windows_code_page(lambda: "cp850") == "cp850"
    assert windows_code_page(lambda: "cp65001") == "utf-8"
    assert windows_code_page(lambda: "cp99999") == "cp437"  # no codec: the OEM default
    def fails() -> str:
        raise OSError("no kernel32")
    assert windows_code_page(fails) == "cp437"
    assert output_encoding("linux", lambda: "cp850") == "utf-8"
    assert output_encoding("windows", lambda: "cp850") == "cp850"


def test_a_netsh_output_saved_to_a_file_on_a_french_windows(tmp_path: Path) -> None:
    """``netsh wlan show interfaces > wifi.txt`` writes cp850: ``socle-agent wifi --from-file wifi.txt
    --encoding cp850`` reads it right; a UTF-16 file (PowerShell's ``>``) is recognised by its mark."""
    import json

    from tests.conftest import run_cli

    raw, _, _ = _as_windows_wrote_it("netsh-networks/wifiheatmapper-networks-fr.txt")
    (tmp_path / "scan.txt").write_bytes(raw)
    (tmp_path / "scan16.txt").write_bytes(raw.decode("cp850").encode("utf-16"))
    for name, extra in (("scan.txt", ["--encoding", "cp850"]), ("scan16.txt", [])):
        done = run_cli("socle-agent", "wifi", "--from-file", str(tmp_path / name), *extra)
        assert done.returncode == 0, done.stderr
        doc = json.loads(done.stdout)
        assert doc["tool"] == "netsh-networks" and len(doc["measurement"]["neighbours"]) == 8
    as_utf8 = run_cli("socle-agent", "wifi", "--from-file", str(tmp_path / "scan.txt"))
    assert as_utf8.returncode == 2 and json.loads(as_utf8.stdout)["status"] == "error"
