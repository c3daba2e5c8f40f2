"""The agent's side of a bandwidth test: which interface, its speed, the CPU, the budget, loss."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)

WIFI_SHARE = 0.7  # Wi-Fi delivers at most about 70 % of its PHY rate as TCP goodput
WIRED_SHARE = 0.9


def interface_for(local_ip: str | None, psutil: Any) -> tuple[str | None, float | None]:
    """(interface name, link speed in Mbit/s) carrying ``local_ip``; speed None when unknown."""
    if not local_ip:
        return None, None
    for name, addrs in psutil.net_if_addrs().items():
        if any(a.address.split("%")[0] == local_ip for a in addrs):
            stats = psutil.net_if_stats().get(name)
            speed = float(stats.speed) if stats is not None and stats.speed > 0 else None
            return name, speed
    return None, None


def is_wireless(interface: str | None, os_name: str, fs_root: Path) -> bool | None:
    """Whether an interface is Wi-Fi (Linux: it has ``/sys/class/net/NAME/wireless``); None when unknown."""
    if interface is None or os_name != "linux":
        return None
    base = fs_root / "sys/class/net" / interface
    return (base / "wireless").exists() or (base / "phy80211").exists()


def limited_by(client_limited: bool, wireless: bool | None, link_speed_mbps: float | None,
               best_mbps: float | None,
               wifi_rates: Sequence[tuple[float | None, float | None]] = ()) -> str | None:
    """What on the agent's side may have capped the figure, or None.

    The agent's CPU first; then Wi-Fi whose rate is unknown or not well above the
    figure; then a wired link running close to its nominal speed. ``wifi_rates``
    pairs each direction's figure with the Wi-Fi rate that carried it (download
    with the receive rate, upload with the transmit rate) when the Wi-Fi reading
    gave them; without them ``link_speed_mbps`` is set against the best figure.
    """
    if client_limited:
        return "client_cpu"
    if best_mbps is None:
        return None
    pairs = [(fig, rate) for fig, rate in wifi_rates if fig is not None]
    if wireless and pairs:
        return "wifi" if any(rate is None or fig >= WIFI_SHARE * rate for fig, rate in pairs) else None
    if wireless:
        if link_speed_mbps is None or best_mbps >= WIFI_SHARE * link_speed_mbps:
            return "wifi"
        return None
    if link_speed_mbps is not None and best_mbps >= WIRED_SHARE * link_speed_mbps:
        return "local_link"
    return None


USAGE_FILE = "bandwidth-usage.json"


def usage_file(configured: Path | None, state_dir: Path | None) -> Path:
    """Where the monthly byte count is kept: the settings', else the agent's state directory.

    Only a probe run without a state directory falls back to
    ``$XDG_STATE_HOME/socle`` (``~/.local/state/socle``).
    """
    if configured is not None:
        return configured
    if state_dir is not None:
        return state_dir / USAGE_FILE
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "socle" / USAGE_FILE


def month_key(now: datetime) -> str:
    """``YYYY-MM`` of a moment: the budget's period."""
    return now.strftime("%Y-%m")


def read_usage(path: Path, month: str) -> int:
    """Bytes already used this month (0 for a new month or no file)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 0
    if not isinstance(data, dict) or data.get("month") != month:
        return 0
    used = data.get("bytes", 0)
    return int(used) if isinstance(used, int) and used >= 0 else 0


def add_usage(path: Path, month: str, nbytes: int) -> int:
    """Add a test's bytes to the month's count and return the new total (kept if unwritable)."""
    total = read_usage(path, month) + nbytes
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"month": month, "bytes": total}), encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        log.warning("cannot record bandwidth usage in %s: %s", path, exc)
    return total


@dataclass(frozen=True)
class Echoes:
    """A run of ICMP echoes: how many were tried, left this host, and were answered."""

    tried: int
    sent: int
    received: int
    send_error: str | None = None  # why the first refused send failed, when one did


class EchoSocket(Protocol):
    """What :func:`icmp_echo` needs of a socket: send an echo, and read the replies that came."""

    def __enter__(self) -> EchoSocket: ...
    def __exit__(self, *exc: object) -> None: ...
    def send(self, request: Any) -> None: ...
    def replies(self, wait_s: float) -> list[tuple[int, int]]: ...


ECHO_REPLY = (0, 129)  # ICMPv4 and ICMPv6 echo reply types


class _IcmplibSocket:
    """icmplib's raw ICMP socket, read without its ``receive`` matching one request at a time.

    ``receive(request, timeout)`` drops a reply that is not the one asked for
    (an earlier echo's, answered late) and one it reads after its own deadline,
    even when it arrived in time and only this process was late to read it. On
    a busy machine both read as loss (7 of 100 echoes where 2 were lost). Here a
    reply is read as soon as the socket has one and kept whichever echo it answers.
    """

    def __init__(self, address: str, monotonic: Callable[[], float] = time.monotonic) -> None:
        from icmplib import ICMPv4Socket, ICMPv6Socket, is_ipv6_address

        kind = ICMPv6Socket if is_ipv6_address(address) else ICMPv4Socket
        self._sock, self._monotonic = kind(None, True), monotonic

    def __enter__(self) -> _IcmplibSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self._sock.close()

    def send(self, request: Any) -> None:
        self._sock.send(request)

    def replies(self, wait_s: float) -> list[tuple[int, int]]:
        """(id, sequence) of the echo replies read within ``wait_s``, and of any read at once after it."""
        import select

        from icmplib import ICMPLibError

        out: list[tuple[int, int]] = []
        end = self._monotonic() + wait_s
        while True:
            ready, _, _ = select.select([self._sock.sock], [], [], max(0.0, end - self._monotonic()))
            if not ready:
                return out
            try:
                reply = self._sock.receive(None, 60.0)  # a packet waits: this returns at once
            except ICMPLibError:
                continue
            if reply.type in ECHO_REPLY:
                out.append((reply.id, reply.sequence))


def _send_error(exc: Exception) -> str:
    # icmplib turns a send's EPERM into SocketBroadcastError; to a unicast host it is this
    # host's own refusal (a firewall's DROP in its OUTPUT chain).
    from icmplib import SocketBroadcastError

    if isinstance(exc, SocketBroadcastError):
        return "EPERM: refused by this host (a local firewall?)"
    return f"{type(exc).__name__}: {exc}"[:200]


def icmp_echo(host: str, count: int, timeout_s: float = 1.0, interval_s: float = 0.01,
              open_socket: Callable[[str], EchoSocket] | None = None,
              monotonic: Callable[[], float] = time.monotonic) -> Echoes:
    """Send ``count`` echoes to ``host`` ``interval_s`` apart on a raw ICMP socket (raw-socket rights).

    Replies are read between sends and for ``timeout_s`` after the last one, from
    a socket opened beforehand (replies wait in the kernel's buffer however busy
    the machine is), and an echo counts as answered whenever its reply is read.
    (scapy's ``sr`` captured them with a sniffer that missed replies on loopback
    under load; icmplib's ``receive`` drops replies read late, see
    :class:`_IcmplibSocket`.) A send this host refuses never reached the network:
    it is tried, not sent, and the error is kept, never passed over (icmplib's
    ``ping`` leaves such sends out of its count without a word).
    """
    from icmplib import ICMPLibError, ICMPRequest, is_hostname, resolve
    from icmplib.utils import unique_identifier

    address = resolve(host)[0] if is_hostname(host) else host
    ident = unique_identifier()
    sent: set[int] = set()
    answered: set[int] = set()
    error: str | None = None
    with (open_socket or _IcmplibSocket)(address) as sock:
        def read(wait_s: float) -> None:
            answered.update(seq for i, seq in sock.replies(wait_s) if i == ident and seq in sent)

        for seq in range(count):
            try:
                sock.send(ICMPRequest(destination=address, id=ident, sequence=seq))
            except ICMPLibError as exc:
                error = error or _send_error(exc)
            else:
                sent.add(seq)
            read(interval_s)
        end = monotonic() + timeout_s
        while len(answered) < len(sent) and (left := end - monotonic()) > 0:
            read(min(left, 0.05))  # returns once all are in, not at the deadline
        read(0.0)  # what came in time but waits unread (this process was kept off a CPU)
    return Echoes(count, len(sent), len(answered), error)


def icmp_loss(echoes: Echoes, tcp_answers: bool) -> tuple[float | None, str | None]:
    """(loss %, None), or (None, why) when the echoes say nothing about the path's loss.

    Nothing sent, or no reply at all while TCP handshakes to the same host
    succeed: ICMP is filtered (or the replies were not seen), which is not loss.
    Some sends refused by this host: what it refused never met the path, and what
    it let through is its choice, not a random sample; no figure from them.
    """
    if echoes.sent <= 0:
        why = f" ({echoes.send_error})" if echoes.send_error else ""
        return None, f"no ICMP echo could be sent{why}"
    if echoes.sent < echoes.tried:
        return None, (f"{echoes.tried - echoes.sent} of {echoes.tried} ICMP echoes could not be sent "
                      f"({echoes.send_error}): they say nothing about the path's loss")
    if echoes.received == 0 and tcp_answers:
        return None, "no ICMP echo reply while TCP answers (ICMP filtered?)"
    return round(100.0 * (echoes.sent - min(echoes.received, echoes.sent)) / echoes.sent, 2), None


CPU_SATURATED = 0.9  # CPU-seconds per second: the client's threads had a whole core
STARVED = 0.25  # share of the transfer its threads spent runnable but off a CPU


def client_limited(busy: float, system_pct: float | None, waited: float | None) -> bool:
    """Whether the agent's own CPU may have capped the figure.

    ``busy`` is the process's CPU time per wall-clock second of transfer,
    ``system_pct`` the whole machine's CPU use over it, ``waited`` the share of
    the transfer the process's threads waited for a CPU (Linux run delay; None
    unknown). The process at a core's worth is limited, and so is one kept
    waiting a quarter of the time or more, however busy the machine looks as a
    whole: the wait is the starvation itself (a machine at 60 % over the test can
    still hold the client off its core for seconds, and a client pinned to a
    busy core waits on an idle machine). Where that wait is unknown the
    machine's figure alone never flags: on a busy shared machine a client that
    got all the CPU it asked for was not what limited the figure.
    """
    if busy >= CPU_SATURATED:
        return True
    return waited is not None and waited >= STARVED
