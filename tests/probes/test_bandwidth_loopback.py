"""ndt7 server and client against each other on loopback (uvicorn in a thread)."""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace

import pytest

from collector.api.ndt7 import SUBPROTOCOL
from collector.app import create_ndt7_app
from config.agent_settings import AgentSettings, BandwidthSettings, ProbeSettings
from config.samples import samples_from_report
from config.wire import BandwidthMeasurement, DeviceIdentity, ProbeResult, ProbeStatus, Report
from probes.bandwidth import analysis, local, ndt7, run
from probes.base import CommandResult, ProbeContext
from tests.conftest import FIXTURES

LINUX = sys.platform.startswith("linux")


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    import uvicorn

    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_ndt7_app(max_duration_s=4.0), log_level="warning",
                                           ws_per_message_deflate=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


SHORT = ndt7.Limits(max_duration_s=2.0, min_duration_s=1.0, byte_cap=10**11)


def test_download_and_upload_sustain_a_gigabit_on_loopback(server_url: str) -> None:
    down_url, up_url = ndt7.ndt7_urls(server_url)
    down = ndt7.download(down_url, SHORT)
    up = ndt7.upload(up_url, SHORT)
    assert down.stop in ("stable", "max_duration")
    assert up.stop in ("stable", "max_duration")
    assert up.source == ("server_tcp_info" if LINUX else "server_app_info")
    d, _, _ = analysis.summarise(down.samples)
    u, _, _ = analysis.summarise(up.samples)
    assert d is not None and d >= 1000.0
    assert u is not None and u >= 1000.0
    assert down.duration_s <= SHORT.max_duration_s + 0.5


def test_byte_cap_stops_the_download_early(server_url: str) -> None:
    down_url, _ = ndt7.ndt7_urls(server_url)
    tr = ndt7.download(down_url, ndt7.Limits(max_duration_s=3.0, min_duration_s=3.0, byte_cap=50_000_000))
    assert tr.stop == "byte_cap"
    assert 50_000_000 <= tr.samples[-1][1] < 100_000_000


def test_server_measurements_carry_app_and_kernel_counts(server_url: str) -> None:
    from websockets.sync.client import connect

    down_url, up_url = ndt7.ndt7_urls(server_url)
    with connect(down_url, subprotocols=[SUBPROTOCOL], max_size=1 << 24) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == SUBPROTOCOL
        first = json.loads(next(m for m in iter(ws.recv, None) if isinstance(m, str)))
    assert first["Origin"] == "server" and first["Test"] == "download"
    assert set(first["AppInfo"]) == {"ElapsedTime", "NumBytes"}
    if LINUX:
        assert {"MinRTT", "RTT", "BytesAcked", "BytesReceived", "TotalRetrans", "ElapsedTime"} <= set(
            first["TCPInfo"])

    with connect(up_url, subprotocols=[SUBPROTOCOL]) as ws:  # type: ignore[list-item]
        ws.send(b"\0" * 100_000)
        ws.send(b"\0" * 100_000)
        deadline = time.monotonic() + 3
        seen = 0
        while seen < 200_000 and time.monotonic() < deadline:
            msg = json.loads(ws.recv(timeout=3))
            seen = msg["AppInfo"]["NumBytes"]
    assert seen == 200_000
    assert msg["Test"] == "upload"
    if LINUX:
        assert msg["TCPInfo"]["BytesReceived"] >= 200_000


def test_request_without_the_ndt7_subprotocol_is_refused_with_400(server_url: str) -> None:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    down_url, _ = ndt7.ndt7_urls(server_url)
    with pytest.raises(InvalidStatus) as err, connect(down_url):
        pass
    assert err.value.response.status_code == 400


def _ctx(tmp_path: Path, server: str, **bw: object) -> ProbeContext:
    # Loopback runs at gigabits: a per-test cap fit for a school line would stop it at once.
    bw = {"max_mb_per_test": 10_000.0, "monthly_budget_mb": 100_000.0, **bw}
    cfg = BandwidthSettings(max_duration_s=2.0, min_duration_s=1.0, **bw)  # type: ignore[arg-type]
    return ProbeContext(settings=AgentSettings(probes=ProbeSettings(bandwidth=cfg)),
                        options={"server": server}, state_dir=tmp_path)


def test_probe_measures_and_records_its_usage(server_url: str, tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, server_url)
    outcome = run(ctx)
    m = outcome.measurement
    assert isinstance(m, BandwidthMeasurement)
    assert outcome.status in (ProbeStatus.ok, ProbeStatus.degraded), outcome.reason
    assert m.download_mbps is not None and m.download_mbps > 100
    assert m.upload_mbps is not None and m.upload_mbps > 100
    assert m.idle_latency_samples == 10
    assert m.idle_latency_min_ms is not None and m.idle_latency_min_ms < 50
    assert m.interface == "lo"
    assert m.bytes_used > 0
    assert m.monthly_used_mb == pytest.approx(m.bytes_used / 1e6, abs=0.001)
    # Kept in the agent's state directory, not the user's home.
    assert local.read_usage(tmp_path / "bandwidth-usage.json", local.month_key(ctx.clock())) == m.bytes_used
    if LINUX:
        assert m.loss_method == "tcp_retrans"  # not privileged in this context
    # A saturated agent CPU is reported, and marks the figure as limited by it.
    assert (m.limited_by == "client_cpu") == m.client_limited
    if m.client_limited:
        assert outcome.status == ProbeStatus.degraded


def test_probe_skips_when_the_monthly_budget_is_spent(server_url: str, tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, server_url, monthly_budget_mb=100.0)
    local.add_usage(tmp_path / "bandwidth-usage.json", local.month_key(ctx.clock()), 99_000_000)
    outcome = run(ctx)
    assert outcome.status == ProbeStatus.unavailable
    assert outcome.reason == "monthly bandwidth budget spent: 99 of 100 MB"


def test_probe_without_a_server_is_unavailable() -> None:
    outcome = run(ProbeContext())
    assert outcome.status == ProbeStatus.unavailable
    assert "no ndt7 server" in (outcome.reason or "")


def test_probe_against_a_closed_port_is_an_error(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    outcome = run(_ctx(tmp_path, f"http://127.0.0.1:{port}"))
    assert outcome.status == ProbeStatus.error
    url = f"ws://127.0.0.1:{port}/ndt/v7/download?client_name=socle-agent"
    assert outcome.reason == f"ndt7 server unreachable at {url}"


def test_a_byte_cap_reached_at_once_still_gives_both_figures_flagged(server_url: str, tmp_path: Path) -> None:
    # 5 MB on loopback lasts milliseconds: no steady window, yet data moved.
    outcome = run(_ctx(tmp_path, server_url, max_mb_per_test=5.0))
    m = outcome.measurement
    assert isinstance(m, BandwidthMeasurement)
    assert outcome.status == ProbeStatus.degraded
    assert (m.download_stop, m.upload_stop) == ("byte_cap", "byte_cap")
    assert m.download_mbps is not None and m.download_mbps > 100
    assert m.upload_mbps is not None and m.upload_mbps > 100
    assert m.upload_source == ("server_tcp_info" if LINUX else "server_app_info")  # the server's count
    assert "download: byte cap reached after" in (outcome.reason or "")
    assert "upload: byte cap reached after" in (outcome.reason or "")
    assert "figure from a short transfer" in (outcome.reason or "")


IW_LINK = FIXTURES / "wifi/linux/iw-link/issue-cinnamon-9301-iw-link-vht80.txt"


def test_a_test_over_wifi_carries_its_reading_and_is_judged_against_its_rates(server_url: str,
                                                                             tmp_path: Path) -> None:
    """Loopback dressed as Wi-Fi: 127.0.0.1 on wlp0s20f3, whose ``iw link`` is a real capture."""
    addr = SimpleNamespace
    fake_ps = SimpleNamespace(
        net_if_addrs=lambda: {"wlp0s20f3": [addr(address="127.0.0.1")]},
        net_if_stats=lambda: {"wlp0s20f3": SimpleNamespace(speed=0)},
        cpu_percent=lambda interval=None: 10.0)
    (tmp_path / "sys/class/net/wlp0s20f3/wireless").mkdir(parents=True)
    calls: list[list[str]] = []

    def fake_run(argv: Sequence[str], timeout: float) -> CommandResult:
        calls.append(list(argv))
        assert list(argv) == ["iw", "dev", "wlp0s20f3", "link"]
        return CommandResult(0, IW_LINK.read_text(encoding="utf-8"))

    ctx = _ctx(tmp_path, server_url)
    ctx.psutil, ctx.run, ctx.os_name, ctx.fs_root = fake_ps, fake_run, "linux", tmp_path
    outcome = run(ctx)
    m = outcome.measurement
    assert isinstance(m, BandwidthMeasurement)
    assert calls == [["iw", "dev", "wlp0s20f3", "link"]]
    assert (m.interface, m.wireless) == ("wlp0s20f3", True)
    assert m.wifi is not None
    assert m.wifi.model_dump() == {
        "interface": "wlp0s20f3", "ssid": "HOME5", "bssid": "64:d1:54:68:93:ae", "band": "5GHz",
        "channel": 56, "signal_dbm": -44.0, "signal_quality_pct": None, "rx_rate_mbps": 702.0,
        "tx_rate_mbps": 866.7}
    # Gigabits through a 702/866.7 Mbit/s link: Wi-Fi cannot be ruled out as the cap.
    assert m.download_mbps is not None and m.download_mbps > 0.7 * 702
    assert m.limited_by == ("client_cpu" if m.client_limited else "wifi")
    assert outcome.status == ProbeStatus.degraded
    # The nested reading crosses the wire and gives no bandwidth.* sample of its own.
    report = Report(report_id=uuid.uuid4(), agent_version="0", school_uai="0350122T", room="CM1",
                    taken_at=ctx.clock(), device=DeviceIdentity(instance_id=uuid.uuid4(), hostname="pc"),
                    results=[ProbeResult(probe="bandwidth", status=outcome.status, duration_s=1.0,
                                         measurement=m)])
    again = Report.model_validate_json(report.model_dump_json())
    metrics = {s.metric for s in samples_from_report(again)}
    assert "bandwidth.download_mbps" in metrics
    assert not [name for name in metrics if "wifi" in name or "rx_rate" in name or "ssid" in name]
