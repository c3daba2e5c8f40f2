"""The LAN probe against a real gateway namespace: ICMP as root, TCP fallback as nobody."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.lan_net import GW_IP, LanNet, lan_net

pytestmark = pytest.mark.netns

BASE = f"""
[probes.lan]
samples = 8
interval_s = 0.01
timeout_s = 0.5
dns_server = "{GW_IP}"
dns_names = ["good.test", "portal.test", "blocked.test"]
"""


@pytest.fixture(scope="module")
def net() -> Iterator[LanNet]:
    with lan_net() as built:
        yield built


def _run(net: LanNet, toml: str, **kw: Any) -> dict[str, Any]:
    proc = net.probe("lan", toml, **kw)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_privileged_icmp_dns_mtu_and_arp(net: LanNet) -> None:
    out = _run(net, BASE + "arp_scan = true\n")
    m = out["measurement"]
    assert out["status"] == "ok"
    assert out["reason"] == "DNS blocked.test: dns: NXDOMAIN (no such name)"
    assert (m["gateway"], m["gateway_method"]) == (GW_IP, "icmp")
    assert (m["gateway_samples_sent"], m["gateway_samples_ok"], m["gateway_loss_pct"]) == (8, 8, 0.0)
    assert 0 < m["gateway_rtt_median_ms"] < 50
    # blocked.test is refused by the gateway's resolver (NXDOMAIN), the other two answer
    assert (m["dns_names_total"], m["dns_names_ok"]) == (3, 2)
    assert 0 < m["dns_median_ms"] < 1000
    assert (m["path_mtu_bytes"], m["mtu_problem"]) == (1500, False)
    assert m["arp_devices"] == 1
    assert m["arp_vendors"] == {"Seiko Epson Corporation": 1}
    assert (m["ipv6_address"], m["ipv6_default_route"]) == (False, False)


def test_lossy_gateway(net: LanNet) -> None:
    # iptables' statistic match drops every fourth echo request: 20 sent, 5 lost
    rule = ["-p", "icmp", "--icmp-type", "echo-request", "-m", "statistic", "--mode", "nth",
            "--every", "4", "--packet", "0", "-j", "DROP"]
    net.in_gateway("iptables", "-I", "INPUT", *rule)
    try:
        out = _run(net, BASE.replace("samples = 8", "samples = 20"))
    finally:
        net.in_gateway("iptables", "-D", "INPUT", *rule, check=False)
    m = out["measurement"]
    assert m["gateway_method"] == "icmp"
    assert (m["gateway_samples_sent"], m["gateway_samples_ok"]) == (20, 15)
    assert m["gateway_loss_pct"] == 25.0


def test_mtu_black_hole(net: LanNet) -> None:
    # the gateway's side takes 1400-byte frames at most, and says nothing about it
    net.in_gateway("ip", "link", "set", net.gw_veth, "mtu", "1400")
    try:
        out = _run(net, BASE.replace("samples = 8", "samples = 2"))
    finally:
        net.in_gateway("ip", "link", "set", net.gw_veth, "mtu", "1500", check=False)
    m = out["measurement"]
    # veth accepts MTU + 4 bytes (is_skb_forwardable leaves room for a VLAN tag)
    assert 1400 <= m["path_mtu_bytes"] <= 1404
    assert m["mtu_problem"] is True


def test_unprivileged_falls_back_to_tcp_and_says_so(net: LanNet) -> None:
    out = _run(net, BASE + "arp_scan = true\n", as_nobody=True)
    m = out["measurement"]
    assert out["status"] == "degraded"
    assert out["reason"] == ("no raw-socket right: gateway timed with TCP connects, not ICMP; "
                             "DNS blocked.test: dns: NXDOMAIN (no such name)")
    assert m["gateway_method"] == "tcp:53"
    assert m["gateway_samples_ok"] == 8 and m["gateway_rtt_median_ms"] > 0
    assert m["dns_names_ok"] == 2
    assert m["path_mtu_bytes"] is None and m["arp_devices"] is None
    assert m["missing"]["path_mtu_bytes"] == "needs raw sockets (run the agent with CAP_NET_RAW)"
    assert m["missing"]["arp_devices"] == "ARP discovery needs raw sockets"


def test_unprivileged_fallback_counts_loss(net: LanNet) -> None:
    # a port that drops (not refuses) TCP: every connect is lost, none is made up
    out = _run(net, BASE + "tcp_port = 9\n", as_nobody=True)
    assert out["measurement"]["gateway_method"] == "tcp:9"
    assert out["measurement"]["gateway_samples_ok"] == 8  # refused is an answer
    rule = ["-p", "tcp", "--dport", "9", "-j", "DROP"]
    net.in_gateway("iptables", "-I", "INPUT", *rule)
    try:
        out = _run(net, BASE.replace("samples = 8", "samples = 2").replace("timeout_s = 0.5",
                                                                           "timeout_s = 0.2")
                   + "tcp_port = 9\n", as_nobody=True)
    finally:
        net.in_gateway("iptables", "-D", "INPUT", *rule, check=False)
    m = out["measurement"]
    assert (m["gateway_samples_ok"], m["gateway_loss_pct"], m["gateway_rtt_median_ms"]) == (0, 100.0, None)
    assert m["missing"]["gateway_rtt_median_ms"] == "the gateway never answered"
