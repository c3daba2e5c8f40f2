"""Linux ``TCP_INFO``: the kernel's own figures for one TCP connection.

Both ends of the ndt7 speed test read it (the collector's server on its side of
the connection, the agent's client on its own), so it lives beside the wire
contract. Decoding is pure; :func:`read_tcp_info` is the one call that touches a
socket. Names follow M-Lab's ``tcp-info`` JSON (``MinRTT``, ``BytesAcked``, …);
times are in microseconds, as the kernel gives them.
"""

from __future__ import annotations

import logging
import socket
import struct
import sys
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

# struct tcp_info from include/uapi/linux/tcp.h, in order. Older kernels return
# a shorter struct: only the fields that fit in what the kernel wrote are kept.
_LAYOUT: tuple[tuple[str, str], ...] = (
    ("State", "B"), ("CAState", "B"), ("Retransmits", "B"), ("Probes", "B"),
    ("Backoff", "B"), ("Options", "B"), ("WScale", "B"), ("AppLimited", "B"),
    ("RTO", "I"), ("ATO", "I"), ("SndMSS", "I"), ("RcvMSS", "I"),
    ("Unacked", "I"), ("Sacked", "I"), ("Lost", "I"), ("Retrans", "I"), ("Fackets", "I"),
    ("LastDataSent", "I"), ("LastAckSent", "I"), ("LastDataRecv", "I"), ("LastAckRecv", "I"),
    ("PMTU", "I"), ("RcvSsThresh", "I"), ("RTT", "I"), ("RTTVar", "I"),
    ("SndSsThresh", "I"), ("SndCwnd", "I"), ("AdvMSS", "I"), ("Reordering", "I"),
    ("RcvRTT", "I"), ("RcvSpace", "I"), ("TotalRetrans", "I"),
    ("PacingRate", "Q"), ("MaxPacingRate", "Q"), ("BytesAcked", "Q"), ("BytesReceived", "Q"),
    ("SegsOut", "I"), ("SegsIn", "I"), ("NotsentBytes", "I"), ("MinRTT", "I"),
    ("DataSegsIn", "I"), ("DataSegsOut", "I"), ("DeliveryRate", "Q"),
    ("BusyTime", "Q"), ("RWndLimited", "Q"), ("SndBufLimited", "Q"),
    ("Delivered", "I"), ("DeliveredCE", "I"), ("BytesSent", "Q"), ("BytesRetrans", "Q"),
    ("DSackDups", "I"), ("ReordSeen", "I"), ("RcvOooPack", "I"), ("SndWnd", "I"),
)
_FULL = struct.calcsize("=" + "".join(f for _, f in _LAYOUT))  # 232 bytes
TCP_NOTSENT_LOWAT = getattr(socket, "TCP_NOTSENT_LOWAT", 25)  # linux/tcp.h
MOVE_WAIT_S = 0.05  # read_when_moved waits this long at most for a count to move...
MOVE_POLL_S = 0.0002  # ...reading it this often


def parse_tcp_info(raw: bytes) -> dict[str, int]:
    """Decode the bytes ``getsockopt(IPPROTO_TCP, TCP_INFO)`` returned.

    The layout is native-endian and naturally aligned (no padding), e.g. the
    first eight bytes ``01 00 00 00 00 07 77 04`` are State=1 (ESTABLISHED),
    Options=7, WScale=0x77; ``RTT`` is at offset 68 and ``BytesReceived`` at 128.
    Fields beyond the end of ``raw`` (an older kernel) are left out.
    """
    out: dict[str, int] = {}
    offset = 0
    for name, fmt in _LAYOUT:
        size = struct.calcsize(fmt)
        if offset + size > len(raw):
            break
        (out[name],) = struct.unpack_from("=" + fmt, raw, offset)
        offset += size
    return out


def read_tcp_info(sock: Any) -> dict[str, int] | None:
    """The kernel's TCP_INFO for a socket, or None where the platform has none."""
    if not sys.platform.startswith("linux") or sock is None:
        return None
    try:
        raw = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _FULL)
    except (OSError, AttributeError) as exc:
        log.debug("TCP_INFO unavailable: %s", exc)
        return None
    return parse_tcp_info(raw)


def read_when_moved(sock: Any, key: str, monotonic: Callable[[], float] = time.perf_counter,
                    sleep: Callable[[float], None] = time.sleep,
                    read: Callable[[Any], dict[str, int] | None] = read_tcp_info,
                    ) -> tuple[float, dict[str, int]] | None:
    """``(time, TCP_INFO)`` just after the count ``key`` next moves; None if it does not within 50 ms.

    The kernel takes arriving segments in batches (every 4 ms, a timer tick, on
    a busy 250 Hz machine): between two batches its counts stand still while
    the link keeps delivering, so a count read at an arbitrary time is behind
    by up to one batch (7 full-size packets at 20 Mbit/s, 0.4 % of a 1 s
    window), and a rate between two such reads is off by the difference of
    their lags. Read just after it moves, and while the kernel dates the last
    data to the present tick (``LastDataRecv`` 0), the count is as of that
    moment; it is dated halfway between the read that saw it still and the one
    that saw it move. Behind a hole the received count moves when the
    retransmission fills it: such a reading is not held back either. A count
    that does not move for 50 ms (a stall) is right at any time: the caller
    keeps its own reading.
    """
    first = read(sock)
    if first is None or key not in first:
        return None
    count: int | None = first[key]
    start = monotonic()
    last = start
    while last - start < MOVE_WAIT_S:
        sleep(MOVE_POLL_S)
        now = monotonic()
        info = read(sock)
        if info is None:
            return None
        if info.get(key) != count and not info.get("LastDataRecv"):
            return (last + now) / 2, info
        count, last = info.get(key), now
    return None


def limit_unsent(sock: Any, nbytes: int) -> bool:
    """Cap the bytes a socket keeps queued but unsent (TCP_NOTSENT_LOWAT); False if unsupported.

    Without it the kernel's send buffer grows to megabytes: a sender that wants
    to stop (duration or byte cap reached) would still push seconds of data.
    """
    if not sys.platform.startswith("linux") or sock is None:
        return False
    try:
        sock.setsockopt(socket.IPPROTO_TCP, TCP_NOTSENT_LOWAT, nbytes)
    except (OSError, AttributeError):
        return False
    return True
