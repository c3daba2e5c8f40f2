"""LAN probe pieces that need no namespace: route tables, TCP timing, vendors, settings."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from config.agent_settings import AgentSettings
from config.wire import ProbeStatus
from probes import lan
from probes.base import ProbeContext
from probes.netinfo import (
    DefaultRoute,
    parse_if_inet6,
    parse_ipv6_default_route,
    parse_proc_net_route,
)

# Captured on the Debian 12 build machine (a VM): /proc/net/route, if_inet6, ipv6_route.
ROUTE = (
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
    "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
    "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
)
IF_INET6 = (
    "fe8000000000000000fc00fffe000001 04 40 20 80     eth0\n"
    "00000000000000000000000000000001 01 80 10 80       lo\n"
    "fd000000000000000000000000000002 04 40 00 82     eth0\n"
)
IPV6_ROUTE = (
    "fd000000000000000000000000000000 40 00000000000000000000000000000000 00 "
    "00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0\n"
    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
    "fd000000000000000000000000000001 00000400 00000002 00000000 00000003     eth0\n"
)


def test_default_route() -> None:
    assert parse_proc_net_route(ROUTE) == DefaultRoute("eth0", "192.0.2.1")
    assert parse_proc_net_route(ROUTE.splitlines()[0] + "\n") is None


def test_lowest_metric_default_route_wins() -> None:
    two = ROUTE + "wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
    assert parse_proc_net_route(two) == DefaultRoute("eth0", "192.0.2.1")


def test_ipv6_tables() -> None:
    assert parse_if_inet6(IF_INET6) == [("eth0", "fd00::2")]
    assert parse_ipv6_default_route(IPV6_ROUTE) is True
    assert parse_ipv6_default_route(IPV6_ROUTE.splitlines()[0]) is False


def test_tcp_round_trips_on_loopback() -> None:
    ctx = ProbeContext(sleep=lambda s: None)
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)
        port = srv.getsockname()[1]
        rtts = lan.tcp_rtts(ctx, "127.0.0.1", port, 3, 0, 1.0)
    assert len(rtts) == 3 and all(0 < r < 1000 for r in rtts)
    # nobody listens now: refused, which still times the round trip
    assert len(lan.tcp_rtts(ctx, "127.0.0.1", port, 2, 0, 1.0)) == 2


def test_vendor_counts() -> None:
    macs = ["00:26:ab:00:00:01", "00:26:AB:00:00:02", "02:00:00:00:00:01"]
    assert lan.vendors(macs) == {"Seiko Epson Corporation": 2, "unknown": 1}


def test_no_gateway_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "proc/net").mkdir(parents=True)
    (tmp_path / "proc/net/route").write_text(ROUTE.splitlines()[0] + "\n")
    settings = AgentSettings.model_validate({"probes": {"lan": {"dns_names": ["localhost"]}}})
    out = lan.run(ProbeContext(settings=settings, fs_root=tmp_path, os_name="linux"))
    assert out.status is ProbeStatus.unavailable
    assert out.reason == "no default gateway: is the device on a network?"
    m = out.measurement
    assert m.gateway is None and m.gateway_rtt_median_ms is None
    assert m.missing["gateway_rtt_median_ms"] == "no default gateway"
    assert m.ipv6_address is None and "IPv6 is disabled" in m.missing["ipv6_address"]
    assert (m.dns_names_total, m.dns_names_ok) == (1, 1)


def test_unprivileged_loopback_gateway() -> None:
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)
        port = srv.getsockname()[1]
        settings = AgentSettings.model_validate({"probes": {"lan": {
            "gateway": "127.0.0.1", "tcp_port": port, "samples": 4, "interval_s": 0,
            "dns_names": []}}})
        out = lan.run(ProbeContext(settings=settings, privileged=False, sleep=time.sleep))
    m = out.measurement
    assert out.status is ProbeStatus.degraded
    assert (m.gateway_method, m.gateway_samples_sent, m.gateway_samples_ok) == (f"tcp:{port}", 4, 4)
    # Four answers of four: the loss is 0 %, somewhere in 0-60.24 % at 95 %, too loose to judge.
    assert (m.gateway_loss_pct, m.gateway_loss_ci_low_pct, m.gateway_loss_ci_high_pct) == (0.0, 0.0, 60.24)
    assert m.doubtful["gateway_loss_pct"] == (
        "0 of 4 lost: 95 % interval 0.00-60.24 %: too few echoes to judge")
    assert m.missing["path_mtu_bytes"] == "needs raw sockets (run the agent with CAP_NET_RAW)"
    assert m.missing["dns_median_ms"] == "no name resolved"
