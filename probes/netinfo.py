"""Routing facts the device and LAN probes share: parsers of the OS's own tables.

Pure functions over text; the callers read the files through ``ctx.fs_root``.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from dataclasses import dataclass


@dataclass(frozen=True)
class DefaultRoute:
    """The IPv4 default route: its interface and gateway."""

    interface: str
    gateway: str


def parse_proc_net_route(text: str) -> DefaultRoute | None:
    """The default route of ``/proc/net/route`` (lowest metric), or None.

    Addresses are little-endian hex. Sample::

        Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
        eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
    """
    best: tuple[int, DefaultRoute] | None = None
    for line in text.splitlines()[1:]:
        cols = line.split()
        if len(cols) < 8 or cols[1] != "00000000" or cols[7] != "00000000":
            continue
        flags = int(cols[3], 16)
        if not flags & 0x1 or not flags & 0x2:  # RTF_UP and RTF_GATEWAY
            continue
        gw = socket.inet_ntoa(struct.pack("<I", int(cols[2], 16)))
        metric = int(cols[6])
        if best is None or metric < best[0]:
            best = (metric, DefaultRoute(cols[0], gw))
    return best[1] if best else None


def parse_if_inet6(text: str) -> list[tuple[str, str]]:
    """Global-scope IPv6 addresses of ``/proc/net/if_inet6`` as (interface, address).

    Columns: address, index, prefix length, scope, flags, name. Sample::

        fe8000000000000000fc00fffe000001 04 40 20 80     eth0
        20010db8000000000000000000000002 04 40 00 80     eth0
    """
    out = []
    for line in text.splitlines():
        cols = line.split()
        if len(cols) != 6 or cols[3] != "00":  # scope 00: global
            continue
        addr = ipaddress.IPv6Address(bytes.fromhex(cols[0]))
        flags = int(cols[4], 16)
        if flags & 0x40 or flags & 0x20:  # IFA_F_TENTATIVE, IFA_F_DADFAILED
            continue
        out.append((cols[5], str(addr)))
    return out


def parse_ipv6_default_route(text: str) -> bool:
    """Whether ``/proc/net/ipv6_route`` holds a default route (``::/0`` through a gateway).

    Columns: destination, prefix length, source, source prefix, next hop, metric,
    refcount, use, flags, device. Sample::

        00000000000000000000000000000000 00 00000000000000000000000000000000 00
        fd000000000000000000000000000001 00000400 00000002 00000000 00000003     eth0

    (one line, folded here).
    """
    for line in text.splitlines():
        cols = line.split()
        if len(cols) != 10 or cols[0] != "0" * 32 or cols[1] != "00":
            continue
        if cols[9] == "lo":  # the kernel's unreachable catch-all
            continue
        flags = int(cols[8], 16)
        if flags & 0x0001 and flags & 0x0002:  # RTF_UP and RTF_GATEWAY
            return True
    return False


# A documentation address (RFC 5737): the routing table picks the default route for it. Connecting
# a UDP socket sends nothing; it only makes the OS choose the source address it would use.
ROUTE_PROBE_V4 = "192.0.2.1"
ROUTE_PROBE_V6 = "2001:db8::1"


def default_route_source() -> str | None:
    """The local address the OS would send from by its default route (any OS), or None without one."""
    for family, target in ((socket.AF_INET, ROUTE_PROBE_V4), (socket.AF_INET6, ROUTE_PROBE_V6)):
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as s:
                s.connect((target, 9))
                return str(s.getsockname()[0])
        except OSError:
            continue
    return None


def interface_with_address(address: str | None, addrs: dict[str, list[object]]) -> str | None:
    """The interface holding ``address`` in psutil's ``net_if_addrs()`` (pure)."""
    if not address:
        return None
    for name, entries in addrs.items():
        if any(str(getattr(a, "address", "")).split("%")[0] == address for a in entries):
            return name
    return None
