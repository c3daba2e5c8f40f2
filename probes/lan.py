"""The school's LAN as this device sees it: gateway, DNS, IPv6, path MTU, neighbours.

The gateway is timed with ICMP echo through scapy when the agent may open raw
sockets; without that right, with TCP connects to the gateway (a refusal is an
answer too, so it times the path as well). ``gateway_method`` says which.
ARP discovery of the subnet is opt-in and paced; it counts devices by vendor
(the OUI of their MAC address) so a technician sees the projectors and tablets.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

from config import confidence
from config.wire import LanMeasurement, ProbeStatus
from probes.base import Outcome, ProbeContext, ProbeSpec
from probes.latency import jitter
from probes.netinfo import parse_if_inet6, parse_ipv6_default_route, parse_proc_net_route
from probes.webcheck import resolve

log = logging.getLogger(__name__)
_FULL_MTU = 1500
_MIN_MTU = 576


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def default_gateway(ctx: ProbeContext) -> tuple[str | None, str | None]:
    """The IPv4 default gateway and its interface (the routing table, or scapy's copy of it)."""
    if ctx.os_name == "linux":
        route = parse_proc_net_route(_read(ctx.fs_root / "proc/net/route") or "")
        return (route.gateway, route.interface) if route else (None, None)
    from scapy.config import conf

    iface, _, gw = conf.route.route("0.0.0.0")[:3]
    return (gw, str(iface)) if gw and gw != "0.0.0.0" else (None, None)


def icmp_rtts(target: str, count: int, interval: float, timeout: float) -> list[float]:
    """Echo round trips to ``target`` in ms, through scapy (needs raw sockets)."""
    from scapy.layers.inet import ICMP, IP
    from scapy.sendrecv import sr

    answered, _ = sr(IP(dst=target) / ICMP(id=0x50C1, seq=(1, count)), inter=interval,
                     timeout=timeout, verbose=0)
    return [(float(reply.time) - float(sent.sent_time or 0)) * 1000.0 for sent, reply in answered]


def tcp_rtts(ctx: ProbeContext, target: str, port: int, count: int, interval: float,
             timeout: float) -> list[float]:
    """Round trips to ``target`` timed by TCP connects; a refusal (RST) is an answer too."""
    out = []
    for i in range(count):
        if i:
            ctx.sleep(interval)
        start = ctx.monotonic()
        try:
            with socket.create_connection((target, port), timeout=timeout):
                pass
        except ConnectionRefusedError:
            pass
        except OSError:  # timeout, unreachable: lost
            continue
        out.append((ctx.monotonic() - start) * 1000.0)
    return out


def probe_mtu(target: str, timeout: float) -> int | None:
    """The largest packet (bytes, IP header included) that reaches ``target`` unfragmented.

    Echo requests with Don't Fragment set, by bisection between 576 and 1500
    bytes; a "fragmentation needed" answer gives the next hop's MTU directly.
    """
    from scapy.layers.inet import ICMP, IP
    from scapy.packet import Raw
    from scapy.sendrecv import sr1

    def passes(size: int) -> bool | int:
        pkt = IP(dst=target, flags="DF") / ICMP(id=0x50C2) / Raw(b"\0" * (size - 28))
        try:
            reply = sr1(pkt, timeout=timeout, verbose=0)
        except OSError:  # EMSGSIZE: larger than our own interface
            return False
        if reply is None or not reply.haslayer(ICMP):
            return False
        icmp = reply[ICMP]
        if icmp.type == 3 and icmp.code == 4:
            return int(icmp.nexthopmtu) or False
        return icmp.type == 0

    first = passes(_FULL_MTU)
    if first is True:
        return _FULL_MTU
    low, high = _MIN_MTU, _FULL_MTU - 1
    if not isinstance(first, bool):
        return first
    if passes(low) is not True:
        return None
    while low < high:
        mid = (low + high + 1) // 2
        if passes(mid) is True:
            low = mid
        else:
            high = mid - 1
    return low


def arp_scan(iface: str, network: ipaddress.IPv4Network, interval: float,
             timeout: float) -> dict[str, str]:
    """MAC address of each neighbour that answers ARP on ``network`` (IP -> MAC)."""
    from scapy.layers.l2 import ARP, Ether
    from scapy.sendrecv import srp

    answered, _ = srp(Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(pdst=str(network)), iface=iface,
                      inter=interval, timeout=timeout, verbose=0)
    return {reply.psrc: reply.hwsrc for _, reply in answered}


def vendors(macs: list[str]) -> dict[str, int]:
    """Devices counted by the vendor of their MAC's OUI (``unknown`` when not listed)."""
    from scapy.config import conf

    counts: Counter[str] = Counter()
    for mac in macs:
        try:
            name = conf.manufdb.lookup(mac)[1]
        except (AttributeError, KeyError, TypeError):
            name = None
        counts[name if name and name != mac else "unknown"] += 1
    return dict(sorted(counts.items()))


def _subnet(ps: Any, iface: str) -> ipaddress.IPv4Network | None:
    for addr in ps.net_if_addrs().get(iface, []):
        if addr.family == socket.AF_INET and addr.netmask:
            return ipaddress.IPv4Interface(f"{addr.address}/{addr.netmask}").network
    return None


def _gateway_part(ctx: ProbeContext, m: dict[str, Any], missing: dict[str, str],
                  notes: list[str]) -> str | None:
    cfg = ctx.settings.probes.lan
    gw, iface = (cfg.gateway, None) if cfg.gateway else default_gateway(ctx)
    m["gateway"] = gw
    if gw is None:
        for key in ("gateway_rtt_median_ms", "gateway_loss_pct"):
            missing[key] = "no default gateway"
        return iface
    rtts: list[float] | None = None
    if ctx.privileged:
        try:
            rtts = icmp_rtts(gw, cfg.samples, cfg.interval_s, cfg.timeout_s)
            m["gateway_method"] = "icmp"
        except (PermissionError, OSError) as exc:
            notes.append(f"ICMP through scapy failed ({exc}); TCP fallback used")
    if rtts is None:
        rtts = tcp_rtts(ctx, gw, cfg.tcp_port, cfg.samples, cfg.interval_s, cfg.timeout_s)
        m["gateway_method"] = f"tcp:{cfg.tcp_port}"
        if not ctx.privileged:
            notes.append("no raw-socket right: gateway timed with TCP connects, not ICMP")
    m["gateway_samples_sent"], m["gateway_samples_ok"] = cfg.samples, len(rtts)
    m["gateway_loss_pct"] = round(100.0 * (cfg.samples - len(rtts)) / cfg.samples, 2)
    lost = cfg.samples - min(len(rtts), cfg.samples)
    low, high = m["gateway_loss_ci_low_pct"], m["gateway_loss_ci_high_pct"] = \
        confidence.loss_interval_pct(lost, cfg.samples)
    if not confidence.loss_is_sound(low, high):  # ten echoes never are: none lost is 0-31 %
        m.setdefault("doubtful", {})["gateway_loss_pct"] = (
            f"{confidence.describe(lost, cfg.samples, low, high)}: too few echoes to judge")
    if rtts:
        m["gateway_rtt_median_ms"] = round(statistics.median(rtts), 3)
        m["gateway_rtt_max_ms"] = round(max(rtts), 3)
        j = jitter(rtts)
        m["gateway_jitter_ms"] = None if j is None else round(j, 3)
    else:
        missing["gateway_rtt_median_ms"] = "the gateway never answered"
    if m.get("gateway_jitter_ms") is None:
        missing["gateway_jitter_ms"] = "fewer than two answers"
    return iface


def _dns_part(ctx: ProbeContext, m: dict[str, Any], missing: dict[str, str], notes: list[str]) -> None:
    cfg = ctx.settings.probes.lan
    m["dns_server"] = cfg.dns_server
    m["dns_names_total"] = len(cfg.dns_names)
    times, errors = [], []
    for name in cfg.dns_names:
        res = resolve(name, cfg.dns_server, cfg.timeout_s, ctx.monotonic)
        if res.error or res.ms is None:
            errors.append(f"{name}: {res.error}")
        else:
            times.append(res.ms)
    m["dns_names_ok"] = len(times)
    notes.extend(f"DNS {e}" for e in errors)
    if times:
        m["dns_median_ms"], m["dns_max_ms"] = round(statistics.median(times), 3), max(times)
    else:
        missing["dns_median_ms"] = "no name resolved" + (f" ({errors[0]})" if errors else "")


def _ipv6_part(ctx: ProbeContext, m: dict[str, Any], missing: dict[str, str]) -> None:
    if ctx.os_name == "linux":
        addrs = _read(ctx.fs_root / "proc/net/if_inet6")
        routes = _read(ctx.fs_root / "proc/net/ipv6_route")
        if addrs is None:
            missing["ipv6_address"] = missing["ipv6_default_route"] = "IPv6 is disabled in the kernel"
            return
        m["ipv6_address"] = bool(parse_if_inet6(addrs))
        m["ipv6_default_route"] = parse_ipv6_default_route(routes or "")
        return
    addrs6 = [a for lst in ctx.ps().net_if_addrs().values() for a in lst
              if a.family == socket.AF_INET6 and not a.address.lower().startswith(("fe80", "::1"))]
    m["ipv6_address"] = bool(addrs6)
    missing["ipv6_default_route"] = f"the IPv6 routing table is read on Linux only, not {ctx.os_name}"


def _mtu_part(ctx: ProbeContext, m: dict[str, Any], missing: dict[str, str], iface: str | None) -> None:
    cfg = ctx.settings.probes.lan
    target = cfg.mtu_target or m.get("gateway")
    m["mtu_target"] = target
    if target is None:
        missing["path_mtu_bytes"] = "no target for the path MTU test"
        return
    if not ctx.privileged:
        missing["path_mtu_bytes"] = "needs raw sockets (run the agent with CAP_NET_RAW)"
        return
    try:
        mtu = probe_mtu(target, cfg.timeout_s)
    except OSError as exc:
        missing["path_mtu_bytes"] = f"scapy could not send: {exc}"
        return
    if mtu is None:
        missing["path_mtu_bytes"] = f"{target} answered no echo request, even of {_MIN_MTU} bytes"
        return
    m["path_mtu_bytes"] = mtu
    stats = ctx.ps().net_if_stats()
    local = stats[iface].mtu if iface in stats else _FULL_MTU
    m["mtu_problem"] = mtu < min(local, _FULL_MTU)


def _arp_part(ctx: ProbeContext, m: dict[str, Any], missing: dict[str, str], iface: str | None) -> None:
    cfg = ctx.settings.probes.lan
    if not cfg.arp_scan:
        missing["arp_devices"] = "ARP discovery is off (probes.lan.arp_scan)"
        return
    if not ctx.privileged:
        missing["arp_devices"] = "ARP discovery needs raw sockets"
        return
    net = _subnet(ctx.ps(), iface) if iface else None
    if net is None or iface is None:
        missing["arp_devices"] = "no IPv4 subnet on the gateway's interface"
        return
    if net.num_addresses > cfg.arp_max_hosts:
        missing["arp_devices"] = f"subnet {net} is larger than arp_max_hosts={cfg.arp_max_hosts}"
        return
    try:
        seen = arp_scan(iface, net, cfg.arp_interval_s, cfg.timeout_s)
    except OSError as exc:
        missing["arp_devices"] = f"scapy could not send: {exc}"
        return
    m["arp_devices"] = len(seen)
    m["arp_vendors"] = vendors(list(seen.values()))


def run(ctx: ProbeContext) -> Outcome:
    """Time the gateway and the resolver, check IPv6 and the path MTU, and (opt-in) list neighbours."""
    m: dict[str, Any] = {}
    missing: dict[str, str] = {}
    notes: list[str] = []
    iface = _gateway_part(ctx, m, missing, notes)
    if iface is None and m.get("gateway") and ctx.os_name == "linux":
        route = parse_proc_net_route(_read(ctx.fs_root / "proc/net/route") or "")
        iface = route.interface if route else None
    _dns_part(ctx, m, missing, notes)
    _ipv6_part(ctx, m, missing)
    _mtu_part(ctx, m, missing, iface)
    _arp_part(ctx, m, missing, iface)
    measurement = LanMeasurement(missing=missing, **m)
    if m.get("gateway") is None:
        return Outcome(ProbeStatus.unavailable, measurement,
                       "no default gateway: is the device on a network?")
    status = ProbeStatus.ok if m.get("gateway_method") == "icmp" else ProbeStatus.degraded
    return Outcome(status, measurement, "; ".join(notes) or None)


SPEC = ProbeSpec(name="lan", run=run,
                 summary="Gateway RTT/jitter/loss, DNS time, IPv6, path MTU, ARP neighbours by vendor")
