"""Bandwidth probe: the pure parts (rates, stop rule, URLs, TCP_INFO, budget, verdict on limits)."""

from __future__ import annotations

import json
import os
import socket
import statistics
import struct
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from icmplib import ICMPRequest, SocketBroadcastError

from config import tcpinfo
from config.agent_settings import load_agent_settings
from config.tcpinfo import parse_tcp_info, read_tcp_info
from config.wire import BandwidthMeasurement, ProbeResult, ProbeStatus
from probes.bandwidth import Direction, analysis, build_measurement, local, ndt7, outcome_of
from tests.conftest import ROOT

# 10 Mbit/s is 312,500 bytes per 250 ms.
STEADY_10 = [(0.0, 0), (0.25, 50_000), (0.5, 200_000)] + [
    (0.5 + 0.25 * i, 200_000 + 312_500 * i) for i in range(1, 13)
]


def test_interval_rates_in_mbit_per_s() -> None:
    assert analysis.interval_rates([(0.0, 0), (0.25, 312_500), (0.5, 625_000)]) == [10.0, 10.0]


def test_interval_rates_merge_gaps_shorter_than_50_ms() -> None:
    # The 0.26 sample comes 10 ms after 0.25: it is merged into the next interval.
    assert analysis.interval_rates([(0.0, 0), (0.25, 312_500), (0.26, 320_000), (0.5, 625_000)]) == [
        10.0, 10.0]


def test_ramp_up_is_left_out_of_the_figure() -> None:
    median, p90, n = analysis.summarise(STEADY_10)
    # Intervals 0.0-0.25 (1.6 Mbit/s) and 0.25-0.5 (4.8 Mbit/s) are the ramp-up.
    assert median == pytest.approx(10.0)
    assert p90 == pytest.approx(10.0)
    assert n == 7  # 1 s windows over the 10 steady 250 ms intervals after the first second


def _quantised(mbit: float, offset: float, ticks: int) -> list[tuple[float, int]]:
    # Whole 1448-byte packets arriving at a steady rate, sampled every 250 ms.
    every = 1448 * 8 / (mbit * 1e6)
    return [(0.0, 0)] + [(0.25 * k + offset, int((0.25 * k + offset) / every) * 1448)
                         for k in range(1, ticks)]


@pytest.mark.parametrize("offset", [0.003, 0.1, 0.2])
def test_slow_link_figure_is_not_biased_by_whole_packets(offset: float) -> None:
    samples = _quantised(1.0, offset, 41)
    # The median of 250 ms intervals would say 1.019 (22 packets where 21.6 arrive).
    assert statistics.median(analysis.steady_rates(samples)) == pytest.approx(1.019, abs=0.001)
    median, _, _ = analysis.summarise(samples)
    assert median == pytest.approx(1.0, abs=0.004)


def test_window_grows_on_slow_links() -> None:
    assert analysis.window_for(100.0) == 1.0
    assert analysis.window_for(1.0) == pytest.approx(2.3168)
    assert analysis.window_for(0.1) == 3.0


def test_percentile_interpolates() -> None:
    assert analysis.percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90) == pytest.approx(9.1)
    assert analysis.percentile([4.0], 90) == 4.0


def test_stable_after_two_steady_seconds_only() -> None:
    assert analysis.is_stable(STEADY_10, 3.0)
    assert not analysis.is_stable(STEADY_10[:8], 3.0)  # 5 steady intervals


def test_not_stable_while_the_rate_still_climbs() -> None:
    climbing = [(0.25 * i, int(31_250 * i * i)) for i in range(16)]
    assert not analysis.is_stable(climbing, 3.0)


def test_no_steady_interval_gives_no_figure() -> None:
    assert analysis.summarise([(0.0, 0)]) == (None, None, 0)


# Upload series recorded on a 10/2 Mbit/s tbf link with a 200 ms queue (tests/netns.py,
# queue_ms=200): the server's in-order counts (TCPInfo.BytesReceived) as the agent took
# them. Losses in the first seconds: the count stands still while a hole is repaired, then
# jumps by what waited out of order. The link's TCP ceiling is 2 × 1448/1514 = 1.913.
JUMP_SHORT_STALL = [
    (0.0, 0), (0.268, 16384), (0.405, 48240), (0.777, 124368), (0.841, 152512), (1.277, 233184),
    (1.359, 260696), (1.598, 272280), (1.978, 388120), (2.289, 396808), (2.535, 557536),
    (2.786, 618352), (3.038, 677720), (3.293, 738536), (3.54, 797904), (3.796, 858720),
    (4.043, 918088), (4.298, 978904), (4.545, 1038272), (4.803, 1100536), (5.073, 1164248)]
JUMP_LONG_STALL = [
    (0.0, 0), (0.249, 57344), (0.355, 83408), (0.75, 177440), (0.817, 193120), (1.248, 260328),
    (1.433, 316800), (1.756, 374456), (2.016, 413552), (2.211, 501880), (2.211, 501880),
    (2.714, 512016), (2.716, 512016), (3.272, 580072), (3.272, 580072), (3.617, 585864),
    (4.059, 968136), (4.313, 1028952), (4.558, 1088320), (4.838, 1154928), (5.093, 1214296),
    (5.34, 1273664), (5.586, 1333032), (5.845, 1393848), (6.094, 1454664)]
# A steady 2 Mbit/s (62,500 bytes per 250 ms) whose count stands still for its last 0.5 s:
# a transfer stopped at its maximum duration inside a stall.
ENDS_IN_STALL = [(0.25 * i, 62_500 * i) for i in range(17)] + [(4.25, 1_000_000), (4.5, 1_000_000)]
# Slow start: the rate doubles every 250 ms up to 8 Mbit/s, then holds.
RAMP = [(0.0, 0), (0.25, 31_250), (0.5, 93_750), (0.75, 218_750), (1.0, 468_750)] + [
    (1.0 + 0.25 * i, 468_750 + 250_000 * i) for i in range(1, 13)]


@pytest.mark.parametrize(("samples", "upto", "figure", "stable"), [
    # The stop rule once said stable at 4.04 s, and the windows' median read 2.06 (1.078 × ceiling):
    # half the windows spanned the jump at 2.5 s. The steady span now starts after the jump.
    (JUMP_SHORT_STALL, 4.043, 1.912, False),
    (JUMP_SHORT_STALL, 5.073, 1.912, True),
    # A 1.4 s stall, then 382 KB in 0.44 s: the windows' median read 1.64 at 5.59 s (0.858 ×).
    (JUMP_LONG_STALL, 5.586, 1.912, False),  # 1.5 s after the jump: not yet 2 s to stop on
    (JUMP_LONG_STALL, 6.094, 1.912, True),
    (JUMP_LONG_STALL, 4.558, 1.927, False),  # 0.5 s after the jump: a figure from it alone
    (STEADY_10, 3.5, 10.0, True),
    (ENDS_IN_STALL, 4.5, 2.0, False),  # the figure ends before the stall, and it is no time to stop
    (RAMP, 4.0, 8.0, True),
    (RAMP, 2.0, 8.0, False),
])
def test_steady_figure_and_stop_on_recorded_looking_series(
        samples: list[tuple[float, int]], upto: float, figure: float, stable: bool) -> None:
    series = [s for s in samples if s[0] <= upto]
    assert analysis.summarise(series)[0] == pytest.approx(figure, rel=0.003)
    assert analysis.is_stable(series, 3.0) is stable


def test_a_jump_inside_the_steady_span_does_not_raise_the_figure() -> None:
    # 2 Mbit/s for 6 s, but the count stands still from 3.0 to 3.5 s and catches up at 3.75 s.
    held = [(0.25 * i, 62_500 * i) for i in range(25)]
    held = [(t, 62_500 * 12 if 3.0 <= t < 3.75 else b) for t, b in held]
    median, p90, _ = analysis.summarise(held)
    assert median == pytest.approx(2.0)
    assert p90 == pytest.approx(2.0)  # no window starts at a held-back count (3.0-3.5 s)


# Download series recorded on a 20/5 Mbit/s tbf link (ceiling 20 × 1448/1514 = 19.128), counts
# read just after they moved: the count falls behind from 2.75 s and catches up by 3.76 s. The
# sample at 3.01 s is held back although the interval after it keeps pace (1.048 ×): windows
# ended there read 0.94-0.96 × the ceiling while they could.
HOLE_THEN_PACED = [
    (0.0, 0), (0.2503, 502296), (0.5138, 1161104), (0.7565, 1809808), (1.0013, 2394800),
    (1.2572, 3007304), (1.5068, 3603880), (1.7642, 4219280), (2.0017, 4786896), (2.2566, 5396504),
    (2.5056, 5991632), (2.7504, 6572280), (3.0077, 7048672), (3.2615, 7684344), (3.5002, 8021728),
    (3.758, 8981752), (4.005, 9572536), (4.2505, 10158976), (4.501, 10758448), (4.7524, 11359368),
    (5.0044, 11961736)]


def test_a_window_bound_needs_the_count_to_keep_pace_on_both_sides() -> None:
    windows = analysis.window_rates(HOLE_THEN_PACED)
    assert windows and all(w == pytest.approx(19.128, rel=0.003) for w in windows)
    assert analysis.summarise(HOLE_THEN_PACED)[0] == pytest.approx(19.128, rel=0.001)


# Upload series recorded on a 10/2 Mbit/s tbf link with a 50 ms queue (tests/netns.py, a fresh
# collector; /tmp series of bench/bandwidth_interop's kind): holes from 2.5 s on, the count at
# 4.697 s held back 100 KB, then the catch-up jump at 4.755 s. The steady span ended at 4.697 s
# (the jump's interval is out of band) and six windows ended there: their median read 1.678,
# 0.877 x the ceiling (1.913), with status ok.
ENDS_BEFORE_JUMP = [
    (0.0, 0), (0.281, 57344), (0.526, 109472), (0.839, 200696), (1.094, 261512), (1.348, 322328),
    (1.602, 383144), (1.857, 443960), (2.111, 504776), (2.365, 565592), (2.491, 596000), (2.728, 639440),
    (3.085, 704600), (3.528, 778448), (3.611, 863880), (3.849, 907320), (4.177, 921800),
    (4.697, 1036192), (4.755, 1137552)]
# Constructed, not recorded: 2 Mbit/s (62,500 bytes per 250 ms); a hole at 2.5 s stalls the
# count for 0.5 s, a partial repair at 3.0 s lets it keep pace while still 125 KB behind, and
# the rest arrives in one jump at 5.25 s. Windows from before the stall to the held-back counts
# read 1.2-1.5 and their median 1.464, while 2.0 was counted over the span.
PACED_BUT_BEHIND = ([(0.25 * i, 62_500 * i) for i in range(11)] + [(2.75, 625_000), (3.0, 625_000)]
                    + [(3.0 + 0.25 * k, 625_000 + 62_500 * k) for k in range(1, 9)] + [(5.25, 1_312_500)])


def test_no_window_ends_at_the_count_before_a_catch_up_jump() -> None:
    assert analysis.window_rates(ENDS_BEFORE_JUMP) == [pytest.approx(1.914, rel=0.001)]
    assert analysis.summarise(ENDS_BEFORE_JUMP)[0] == pytest.approx(1.913, rel=0.003)


@pytest.mark.parametrize(("samples", "figure", "flagged"), [
    (ENDS_BEFORE_JUMP, 1.678, True),  # what the windows read before they stopped ending there
    (ENDS_BEFORE_JUMP, 1.914, False),
    (PACED_BUT_BEHIND, 1.464, True),
    (PACED_BUT_BEHIND, 0.773, True),
    (JUMP_LONG_STALL, 1.912, False),  # a real dip lowers the span's mean, not the figure
    (JUMP_SHORT_STALL, 1.912, False),
    (HOLE_THEN_PACED, 19.128, False),
    (STEADY_10, 10.0, False),
    (RAMP, 8.0, False),
])
def test_a_figure_well_under_the_span_mean_is_flagged(
        samples: list[tuple[float, int]], figure: float, flagged: bool) -> None:
    assert (analysis.below_mean(figure, samples) is not None) is flagged


def test_a_figure_from_held_back_counts_is_degraded() -> None:
    assert analysis.summarise(PACED_BUT_BEHIND)[0] == pytest.approx(1.464, rel=0.001)
    down = _transfer("download", STEADY_10, stop="stable", source="client_tcp_info")
    up = _transfer("upload", PACED_BUT_BEHIND, stop="max_duration", source="server_tcp_info")
    m, notes = build_measurement("http://c.example", [10.0], Direction(down), Direction(up),
                                 (0.0, "icmp", None))
    assert m.upload_mbps == pytest.approx(1.464, rel=0.001)  # the figure is kept, and flagged
    assert len(notes) == 1 and notes[0].startswith("upload: figure 1.464 Mbit/s under 90 % of the 2.000")
    outcome = outcome_of(m, notes)
    assert outcome.status is ProbeStatus.degraded and "held back" in (outcome.reason or "")


def _tcp_reads(*reads: dict[str, int] | None
               ) -> tuple[Callable[[object], dict[str, int] | None], Callable[[], float]]:
    """A fake TCP_INFO reader returning ``reads`` in turn, and a clock moving 1 ms per call."""
    it = iter(reads)
    clock = iter(range(1000))
    return (lambda sock: next(it)), (lambda: next(clock) / 1000.0)


def test_read_when_moved_dates_the_count_between_the_reads_around_its_move() -> None:
    still, moved = {"BytesReceived": 100, "LastDataRecv": 4}, {"BytesReceived": 2996, "LastDataRecv": 0}
    read, clock = _tcp_reads(still, still, still, moved)
    at, info = tcpinfo.read_when_moved(None, "BytesReceived", clock, lambda s: None, read) or (0, {})
    assert at == pytest.approx(0.0025) and info is moved  # last still read at 2 ms, moved at 3 ms


def test_read_when_moved_waits_for_a_move_the_kernel_dates_to_the_present_tick() -> None:
    # A count that moved one timer tick ago (LastDataRecv 4 ms) may be a whole batch behind.
    first, fresh = {"BytesReceived": 100, "LastDataRecv": 0}, {"BytesReceived": 300, "LastDataRecv": 0}
    ticked = {"BytesReceived": 200, "LastDataRecv": 4}
    read, clock = _tcp_reads(first, ticked, ticked, fresh)
    at, info = tcpinfo.read_when_moved(None, "BytesReceived", clock, lambda s: None, read) or (0, {})
    assert at == pytest.approx(0.0025) and info is fresh


def test_read_when_moved_gives_up_on_a_stalled_count() -> None:
    still = {"BytesReceived": 100, "LastDataRecv": 0}
    read, clock = _tcp_reads(*[still] * 100)
    assert tcpinfo.read_when_moved(None, "BytesReceived", clock, lambda s: None, read) is None
    read, clock = _tcp_reads(None)
    assert tcpinfo.read_when_moved(None, "BytesReceived", clock, lambda s: None, read) is None


def test_ndt7_urls_from_a_collector_base_url() -> None:
    down, up = ndt7.ndt7_urls("https://socle.example.org/", {"client_name": "socle-agent"})
    assert down == "wss://socle.example.org/ndt/v7/download?client_name=socle-agent"
    assert up == "wss://socle.example.org/ndt/v7/upload?client_name=socle-agent"


def test_ndt7_urls_from_a_subtest_url_keep_its_token() -> None:
    down, up = ndt7.ndt7_urls("wss://ndt.example.net:4443/ndt/v7/upload?access_token=abc")
    assert down == "wss://ndt.example.net:4443/ndt/v7/download?access_token=abc"
    assert up == "wss://ndt.example.net:4443/ndt/v7/upload?access_token=abc"


def test_ndt7_urls_refuse_other_schemes() -> None:
    with pytest.raises(ValueError, match="not an ndt7 server URL"):
        ndt7.ndt7_urls("ftp://example.org/")


def test_host_port_defaults() -> None:
    assert ndt7.host_port("ws://10.0.0.1/ndt/v7/download") == ("10.0.0.1", 80)
    assert ndt7.host_port("wss://h.example/ndt/v7/download") == ("h.example", 443)


def test_parse_tcp_info_reads_fields_at_their_offsets() -> None:
    raw = bytearray(232)
    raw[0] = 1  # State: ESTABLISHED
    struct.pack_into("=I", raw, 68, 12_345)  # RTT, µs
    struct.pack_into("=I", raw, 100, 7)  # TotalRetrans
    struct.pack_into("=Q", raw, 120, 1_000_000)  # BytesAcked
    struct.pack_into("=Q", raw, 128, 2_000_000)  # BytesReceived
    struct.pack_into("=I", raw, 148, 9_876)  # MinRTT
    struct.pack_into("=Q", raw, 208, 4_096)  # BytesRetrans
    info = parse_tcp_info(bytes(raw))
    assert (info["State"], info["RTT"], info["TotalRetrans"]) == (1, 12_345, 7)
    assert (info["BytesAcked"], info["BytesReceived"], info["MinRTT"]) == (1_000_000, 2_000_000, 9_876)
    assert info["BytesRetrans"] == 4_096
    assert "SndWnd" in info


def test_parse_tcp_info_of_an_old_kernel_stops_at_its_end() -> None:
    info = parse_tcp_info(bytes(104))  # Linux 3.x: up to TotalRetrans
    assert "TotalRetrans" in info
    assert "BytesReceived" not in info


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="TCP_INFO is Linux's")
def test_read_tcp_info_counts_a_real_loopback_transfer() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname())
        peer, _ = server.accept()
        with client, peer:
            client.sendall(b"x" * 10_000)
            got = 0
            while got < 10_000:
                got += len(peer.recv(65536))
            time.sleep(0.05)  # let the ACK come back
            receiver, sender = read_tcp_info(peer), read_tcp_info(client)
    assert receiver is not None and sender is not None
    assert receiver["State"] == 1
    assert receiver["BytesReceived"] == 10_000
    assert sender["BytesAcked"] == 10_001  # the kernel counts the SYN as one acked byte


def test_usage_ledger_adds_within_a_month_and_restarts_the_next(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "usage.json"
    assert local.read_usage(path, "2026-11") == 0
    assert local.add_usage(path, "2026-11", 1_500) == 1_500
    assert local.add_usage(path, "2026-11", 500) == 2_000
    assert local.read_usage(path, "2026-12") == 0
    assert local.month_key(datetime(2026, 11, 30, 23, 0, tzinfo=UTC)) == "2026-11"


@pytest.mark.parametrize(("cpu", "wireless", "speed", "best", "expected"), [
    (True, False, 1000.0, 50.0, "client_cpu"),
    (False, True, None, 50.0, "wifi"),  # Wi-Fi whose rate is unknown cannot be ruled out
    (False, True, 72.0, 60.0, "wifi"),  # 60 of 72 Mbit/s PHY: Wi-Fi is the bottleneck
    (False, True, 866.0, 60.0, None),
    (False, False, 100.0, 94.0, "local_link"),
    (False, False, 1000.0, 94.0, None),
    (False, None, None, None, None),
])
def test_limited_by(cpu: bool, wireless: bool | None, speed: float | None, best: float | None,
                    expected: str | None) -> None:
    assert local.limited_by(cpu, wireless, speed, best) == expected


def test_interface_for_finds_the_address_and_speed() -> None:
    addr = SimpleNamespace
    fake = SimpleNamespace(
        net_if_addrs=lambda: {"lo": [addr(address="127.0.0.1")], "eth0": [addr(address="192.0.2.7")]},
        net_if_stats=lambda: {"lo": SimpleNamespace(speed=0), "eth0": SimpleNamespace(speed=1000)},
    )
    assert local.interface_for("192.0.2.7", fake) == ("eth0", 1000.0)
    assert local.interface_for("127.0.0.1", fake) == ("lo", None)  # speed 0 means unknown
    assert local.interface_for("198.51.100.1", fake) == (None, None)


def test_is_wireless_reads_sysfs(tmp_path: Path) -> None:
    (tmp_path / "sys/class/net/wlp2s0/wireless").mkdir(parents=True)
    (tmp_path / "sys/class/net/eno1").mkdir(parents=True)
    assert local.is_wireless("wlp2s0", "linux", tmp_path) is True
    assert local.is_wireless("eno1", "linux", tmp_path) is False
    assert local.is_wireless("Ethernet", "windows", tmp_path) is None


def _transfer(test: str, samples: list[tuple[float, int]], **kw: object) -> ndt7.Transfer:
    t = ndt7.Transfer(test, samples=samples, duration_s=samples[-1][0], **kw)  # type: ignore[arg-type]
    return t


def test_build_measurement_from_two_transfers() -> None:
    down = _transfer("download", STEADY_10, stop="stable", source="client_tcp_info",
                     wire_bytes=4_000_000, loaded_rtt_ms=[20.0, 30.0, 40.0], retrans_bytes=30_000,
                     sent_bytes=3_000_000)
    up_samples = [(0.25 * i, 62_500 * i) for i in range(16)]  # 2 Mbit/s
    up = _transfer("upload", up_samples, stop="max_duration", source="server_tcp_info",
                   wire_bytes=1_000_000, retrans_bytes=0, sent_bytes=1_000_000)
    m, notes = build_measurement("http://c.example", [10.0, 12.0, 11.0], Direction(down), Direction(up),
                                 (None, None, "no raw-socket rights"))
    assert notes == []
    assert m.download_mbps == 10.0 and m.upload_mbps == 2.0
    assert (m.download_stop, m.upload_stop, m.upload_source) == ("stable", "max_duration", "server_tcp_info")
    assert (m.idle_latency_min_ms, m.idle_latency_median_ms, m.idle_jitter_ms) == (10.0, 11.0, 1.5)
    assert m.loaded_latency_download_ms == 30.0
    assert m.loaded_latency_upload_ms is None
    assert "loaded_latency_upload_ms" in m.missing
    assert m.bytes_used == 5_000_000
    assert (m.loss_pct, m.loss_method) == (0.75, "tcp_retrans")  # 30 kB of 4 MB sent


def test_build_measurement_keeps_why_a_direction_is_missing() -> None:
    m, _ = build_measurement("http://c.example", [], Direction(None, "ConnectionRefusedError: [Errno 111]"),
                          Direction(None, "InvalidStatus: server rejected WebSocket connection: HTTP 400"),
                          (1.0, "icmp", None))
    assert m.download_mbps is None and m.upload_mbps is None
    assert m.missing["download_mbps"].startswith("ConnectionRefusedError")
    assert "HTTP 400" in m.missing["upload_mbps"]
    assert (m.loss_pct, m.loss_method) == (1.0, "icmp")
    # It crosses the wire as a bandwidth result.
    result = ProbeResult(probe="bandwidth", status=ProbeStatus.error, duration_s=1.0, measurement=m)
    again = ProbeResult.model_validate_json(result.model_dump_json())
    assert isinstance(again.measurement, BandwidthMeasurement)
    assert again.measurement.missing == m.missing


def test_upload_without_server_counts_is_not_reported() -> None:
    up = _transfer("upload", [(0.0, 0)], stop="max_duration", source="", app_bytes=5_000_000)
    m, _ = build_measurement("http://c.example", [1.0], Direction(None, "refused"), Direction(up),
                             (None, None, "x"))
    assert m.upload_mbps is None
    assert m.missing["upload_mbps"] == "the server sent no measurement of what it received"


def test_example_settings_hold_the_bandwidth_section() -> None:
    root = ROOT
    cfg = load_agent_settings(root / "config/examples/agent.toml").probes.bandwidth
    assert (cfg.max_duration_s, cfg.min_duration_s, cfg.max_mb_per_test) == (10.0, 3.0, 100.0)
    assert cfg.monthly_budget_mb == 4000.0


def test_short_transfer_leaves_out_its_first_40_pct_and_scales_its_windows() -> None:
    # 0.1 s at a byte cap, counted every 10 ms: 0.5 Mbit in the first 40 ms (ramp-up),
    # then 2.5 MB every 10 ms (2,000 Mbit/s).
    samples = [(0.0, 0), (0.01, 10_000), (0.02, 25_000), (0.03, 45_000), (0.04, 62_500)] + [
        (0.04 + 0.01 * i, 62_500 + 2_500_000 * i) for i in range(1, 7)]
    assert analysis.summarise(samples) == (None, None, 0)  # nothing after a 1 s warm-up
    median, p90, n = analysis.short_summary(samples)
    assert median == pytest.approx(2000.0)
    assert p90 == pytest.approx(2000.0)
    assert n == 3  # 40 ms windows over the last 60 ms, sliding by 10 ms


def test_short_transfer_counted_in_bursts_never_reads_zero() -> None:
    # A busy client read its socket late: the kernel count stood still, then 5 MB at once.
    samples = [(0.0, 0), (0.01, 100_000)] + [(0.01 + 0.01 * i, 100_000) for i in range(1, 9)] + [
        (0.1, 5_100_000)]
    median, p90, _ = analysis.short_summary(samples)
    assert median == pytest.approx(5_100_000 * 8 / 0.1 / 1e6)  # the whole transfer's rate: 408 Mbit/s
    assert median is not None and p90 is not None and p90 >= median


def test_short_transfer_with_two_counts_gives_their_one_rate() -> None:
    # The server's start and one measurement: 25 MB in 0.1 s, ramp-up included.
    assert analysis.short_summary([(0.0, 0), (0.1, 25_000_000)]) == (2000.0, 2000.0, 1)
    assert analysis.short_summary([(0.0, 0), (0.1, 0)]) == (None, None, 0)
    assert analysis.short_summary([(0.0, 0)]) == (None, None, 0)


def test_byte_capped_transfers_give_flagged_figures() -> None:
    down = _transfer("download", [(0.0, 0), (0.08, 30_000_000)], stop="byte_cap", source="client_tcp_info",
                     fine=[(0.0, 0), (0.02, 2_000_000), (0.04, 7_000_000), (0.06, 17_000_000),
                           (0.08, 27_000_000)])
    up = _transfer("upload", [(0.0, 0), (0.05, 10_000_000)], stop="byte_cap", source="server_tcp_info")
    m, notes = build_measurement("http://c.example", [1.0], Direction(down), Direction(up),
                                 (0.0, "icmp", None))
    # Download: after the first 32 ms, 10 MB per 20 ms is 4,000 Mbit/s.
    assert m.download_mbps == 4000.0
    assert m.upload_mbps == 1600.0  # 10 MB in 50 ms
    assert (m.download_stop, m.upload_stop) == ("byte_cap", "byte_cap")
    assert notes == ["download: byte cap reached after 0.08 s: figure from a short transfer",
                     "upload: byte cap reached after 0.05 s: figure from a short transfer"]
    assert "download_mbps" not in m.missing and "upload_mbps" not in m.missing


@pytest.mark.parametrize(("busy", "system", "waited", "expected"), [
    (0.95, 20.0, 0.0, True),  # the client's threads had a whole core
    (0.3, 99.0, 0.01, False),  # a busy shared machine, but the client got the CPU it asked for
    (0.3, 99.0, 0.4, True),  # kept off a CPU 40 % of the time on a saturated machine
    (0.3, 60.0, 0.4, True),  # kept waiting all the same: the machine's average hides a starved core
    (0.3, 60.0, 0.2, False),  # a short wait
    (0.3, 99.0, None, False),  # the wait is unknown (not Linux): the machine's figure alone never flags
])
def test_client_limited(busy: float, system: float, waited: float | None, expected: bool) -> None:
    assert local.client_limited(busy, system, waited) is expected


def test_icmp_loss_does_not_mistake_filtered_echoes_for_loss() -> None:
    assert local.icmp_loss(local.Echoes(100, 100, 97), tcp_answers=True) == (3.0, None)
    assert local.icmp_loss(local.Echoes(100, 100, 0), tcp_answers=False) == (100.0, None)
    assert local.icmp_loss(local.Echoes(100, 100, 0), tcp_answers=True) == (
        None, "no ICMP echo reply while TCP answers (ICMP filtered?)")
    assert local.icmp_loss(local.Echoes(0, 0, 0), tcp_answers=True) == (None, "no ICMP echo could be sent")


class _RefusingSocket:
    """An ICMP socket whose host refuses the sends in ``refused`` (EPERM) and answers the rest.

    Replies to ``unanswered`` never come; those to ``late`` come only after the
    last send (a busy machine reads them late), with a stray reply of another
    process's echo (another id) among them; to ``strays`` only another process's
    reply comes. ``clock`` moves by each wait asked for.
    """

    def __init__(self, refused: set[int], unanswered: set[int] | None = None,
                 late: set[int] | None = None, strays: set[int] | None = None) -> None:
        self.refused, self.unanswered, self.late = refused, unanswered or set(), late or set()
        self.strays = strays or set()
        self.pending: list[tuple[int, int]] = []
        self.held: list[tuple[int, int]] = []
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def __enter__(self) -> _RefusingSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def send(self, request: ICMPRequest) -> None:
        if request.sequence in self.refused:  # icmplib's error for a send's EPERM
            raise SocketBroadcastError
        if request.sequence in self.strays:
            self.pending.append((request.id ^ 1, request.sequence))
        elif request.sequence in self.late:
            self.held += [(request.id, request.sequence), (request.id ^ 1, request.sequence)]
        elif request.sequence not in self.unanswered:
            self.pending.append((request.id, request.sequence))

    def replies(self, wait_s: float) -> list[tuple[int, int]]:
        self.now += wait_s
        if len(self.pending) + len(self.held) and not self.pending:  # the sends are over: the late ones
            self.pending, self.held = self.held, []
        out, self.pending = self.pending, []
        return out


def _echo(sock: _RefusingSocket, count: int) -> local.Echoes:
    return local.icmp_echo("192.0.2.1", count, open_socket=lambda _: sock, monotonic=sock.clock)


def test_icmp_echo_counts_a_refused_send_and_gives_no_loss_figure() -> None:
    sock = _RefusingSocket(refused={3, 50}, unanswered={7})
    echoes = _echo(sock, 100)
    assert echoes == local.Echoes(100, 98, 97, "EPERM: refused by this host (a local firewall?)")
    # The two refused echoes never met the path: neither 1 % (7 only) nor 3 % (all three), but no figure.
    assert local.icmp_loss(echoes, tcp_answers=True) == (
        None, "2 of 100 ICMP echoes could not be sent (EPERM: refused by this host (a local firewall?)): "
              "they say nothing about the path's loss")


def test_icmp_echo_with_every_send_refused_says_why() -> None:
    sock = _RefusingSocket(refused=set(range(10)))
    echoes = _echo(sock, 10)
    assert (echoes.sent, echoes.received) == (0, 0)
    assert local.icmp_loss(echoes, tcp_answers=True) == (
        None, "no ICMP echo could be sent (EPERM: refused by this host (a local firewall?))")


def test_icmp_echo_counts_unanswered_echoes_as_lost() -> None:
    sock = _RefusingSocket(refused=set(), unanswered={0, 1})
    echoes = _echo(sock, 100)
    assert echoes == local.Echoes(100, 100, 98)
    assert local.icmp_loss(echoes, tcp_answers=True) == (2.0, None)
    assert sock.now == pytest.approx(100 * 0.01 + 1.0)  # the sends, then a second for the two


def test_icmp_echo_counts_a_reply_read_late_and_never_another_process_s() -> None:
    # A busy machine reads the replies of echoes 5-9 only after the last send; each comes with a
    # reply to another process's echo of the same sequence (another id), which must not count.
    sock = _RefusingSocket(refused=set(), late=set(range(5, 10)))
    echoes = _echo(sock, 20)
    assert echoes == local.Echoes(20, 20, 20)
    assert sock.now < 20 * 0.01 + 0.1  # it stopped waiting once every reply came
    # Another id's reply to sequence 3 is not ours: 3 is lost.
    assert _echo(_RefusingSocket(refused=set(), strays={3}), 20) == local.Echoes(20, 20, 19)


@pytest.mark.skipif(not sys.platform.startswith("linux") or os.geteuid() != 0,
                    reason="ICMP echoes need a raw socket: root on Linux")
def test_no_loss_to_loopback_as_root() -> None:
    assert local.icmp_echo("127.0.0.1", 50) == local.Echoes(50, 50, 50)


def test_usage_file_lives_in_the_state_directory(tmp_path: Path) -> None:
    assert local.usage_file(None, tmp_path) == tmp_path / "bandwidth-usage.json"
    assert local.usage_file(tmp_path / "mine.json", tmp_path / "state") == tmp_path / "mine.json"


def test_limited_by_wifi_rates_per_direction() -> None:
    # 702 Mbit/s receive, 866.7 transmit (tests/fixtures/wifi/linux/iw-link/issue-cinnamon-9301-...).
    assert local.limited_by(False, True, None, 300.0, [(300.0, 702.0), (90.0, 866.7)]) is None
    assert local.limited_by(False, True, None, 520.0, [(520.0, 702.0), (90.0, 866.7)]) == "wifi"
    assert local.limited_by(False, True, None, 90.0, [(None, 702.0), (90.0, None)]) == "wifi"


def test_the_agent_shows_its_credential_to_its_own_collector_only() -> None:
    from probes.bandwidth.probe import _same_server

    assert _same_server("https://socle.example.org", "https://socle.example.org/")
    assert _same_server("wss://socle.example.org:443/ndt/v7/download", "https://socle.example.org")
    assert not _same_server("wss://ndt.mlab.example/ndt/v7", "https://socle.example.org")
    assert not _same_server("http://socle.example.org:8470", "http://socle.example.org:8471")
    assert not _same_server("http://socle.example.org", None)


def _recorded(name: str) -> tuple[Direction, Direction, dict[str, object]]:
    """A recorded run's two transfers (tests/fixtures/bandwidth/SOURCES.md) and the result it gave then."""
    data = json.loads((ROOT / "tests/fixtures/bandwidth" / name).read_text(encoding="utf-8"))

    def transfer(d: dict[str, object]) -> ndt7.Transfer:
        fields = {k: v for k, v in d.items() if k not in ("samples", "fine")}
        return ndt7.Transfer(samples=[tuple(s) for s in d["samples"]],  # type: ignore[arg-type, misc]
                             fine=[tuple(s) for s in d["fine"]], **fields)  # type: ignore[arg-type, misc]

    return Direction(transfer(data["download"])), Direction(transfer(data["upload"])), data["result"]


def test_a_figure_whose_windows_disagree_is_doubted_and_degraded() -> None:
    # The upload read 0.890 of the 50 Mbit/s link's ceiling; its windows ran from 0.836 to 1.000.
    down, up, _ = _recorded("300-50-upload-windows-disagree.json")
    m, notes = build_measurement("http://10.77.0.1:4444", [1.0], down, up, (0.0, "icmp", None, 200, 0))
    assert m.upload_mbps == pytest.approx(0.8899 * 50 * 1448 / 1514, rel=1e-3)
    assert m.upload_windows == 7 and m.upload_spread_pct is not None and m.upload_spread_pct > 15
    assert m.doubtful["upload_mbps"].startswith("its 7 windows disagree: ")
    assert "download_mbps" not in m.doubtful and m.download_spread_pct is not None
    assert m.download_spread_pct < analysis.SPREAD_PCT
    outcome = outcome_of(m, notes)
    assert outcome.status is ProbeStatus.degraded
    assert outcome.reason is not None and outcome.reason.startswith("upload: its 7 windows disagree")


def test_steady_windows_and_a_sound_loss_give_ok() -> None:
    down, up, then = _recorded("300-50-steady.json")
    m, notes = build_measurement("http://10.77.0.1:4444", [1.0], down, up, (0.0, "icmp", None, 200, 0))
    assert then["status"] == "ok" and notes == [] and m.doubtful == {}
    assert (m.loss_samples, m.loss_ci_low_pct, m.loss_ci_high_pct) == (200, 0.0, 1.83)
    assert m.download_windows == 4 and m.download_spread_pct == pytest.approx(0.06, abs=0.01)
    assert outcome_of(m, notes).status is ProbeStatus.ok


def test_a_loss_from_too_few_echoes_is_doubted_with_its_interval() -> None:
    down, up, _ = _recorded("300-50-steady.json")
    m, notes = build_measurement("http://10.77.0.1:4444", [1.0], down, up, (2.0, "icmp", None, 100, 2))
    assert (m.loss_pct, m.loss_samples, m.loss_ci_low_pct, m.loss_ci_high_pct) == (2.0, 100, 0.24, 7.04)
    assert m.doubtful == {"loss_pct": "2 of 100 lost: 95 % interval 0.24-7.04 %: too few echoes to judge "
                                      "(an interval over 2 points)"}
    outcome = outcome_of(m, notes)
    assert outcome.status is ProbeStatus.degraded
    assert outcome.reason == "loss: " + m.doubtful["loss_pct"]


def test_a_starved_client_is_degraded_with_the_figures_that_say_so() -> None:
    down, up, _ = _recorded("300-50-steady.json")
    m, notes = build_measurement("http://10.77.0.1:4444", [1.0], down, up, (0.0, "icmp", None, 200, 0))
    m.client_cpu_pct, m.client_wait_pct, m.machine_cpu_pct = 7.8, 46.0, 100.0
    m.client_limited, m.limited_by = True, "client_cpu"
    outcome = outcome_of(m, notes)
    assert outcome.status is ProbeStatus.degraded
    assert outcome.reason == (
        "limited by client_cpu: client CPU starved (the client at 7.8 % of a core, its threads kept waiting "
        "for a CPU 46 % of the transfer, the machine's CPU at 100 %): the figures are this machine's, not "
        "the link's, and may be low")
