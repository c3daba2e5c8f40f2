"""The ndt7 client: one download and one upload subtest over a WebSocket library.

Framing is the ``websockets`` library's (imported on first use). What is counted:

- download: the client's own kernel count of received bytes (``TCP_INFO``
  ``BytesReceived``), sampled every 250 ms just after it moves
  (:func:`config.tcpinfo.read_when_moved`: read between two of the kernel's
  batches, it lags by up to one); the application's message count where the
  platform has no ``TCP_INFO``;
- upload: the *server's* count, from its measurement messages
  (``TCPInfo.BytesReceived``, else ``AppInfo.NumBytes``) with the server's own
  timestamps. The client never reports its own sent bytes as throughput: they
  include what is still queued on its side of a slow uplink.

A transfer stops when its steady rate is stable, at the byte cap, at the
maximum duration, or when the server ends it, whichever comes first.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from config.tcpinfo import limit_unsent, read_tcp_info, read_when_moved
from probes.bandwidth.analysis import Sample, is_stable

log = logging.getLogger(__name__)

SUBPROTOCOL = "net.measurementlab.ndt.v7"
TICK_S = 0.25
MAX_MESSAGE = 1 << 24  # what we accept from a server (ndt-server sends up to 1 << 24)
UPLOAD_MIN_MESSAGE = 1 << 13
UPLOAD_MAX_MESSAGE = 1 << 20
UNSENT_LOWAT = 1 << 17
SHORT_S = 2.0  # an upload this short waits for the server's count of all it sent...
FINAL_WAIT_S = 1.5  # ...for at most this long (the server measures every 250 ms)


@dataclass(frozen=True)
class Limits:
    """How a subtest runs: when it stops (stable after ``min_duration_s``, or a hard limit), and the
    credential it shows a server that asks for one (an ``Authorization`` header; kept out of reprs
    and logs)."""

    max_duration_s: float = 10.0
    min_duration_s: float = 3.0
    stable_tolerance_pct: float = 3.0
    byte_cap: int = 20_000_000
    open_timeout_s: float = 10.0
    credential: str | None = field(default=None, repr=False)
    # Told the rate so far (Mbit/s) at each sample, for a live display; never part of the figures.
    on_rate: Callable[[float], None] | None = field(default=None, repr=False, compare=False)


def _tell_rate(limits: Limits, seconds: float, count: int) -> None:
    if limits.on_rate is not None and seconds > 0:
        limits.on_rate(count * 8 / seconds / 1e6)


@dataclass
class Transfer:
    """What one subtest saw; ``samples`` are the receiver's cumulative bytes over time."""

    test: str
    samples: list[Sample] = field(default_factory=lambda: [(0.0, 0)])
    fine: list[Sample] = field(default_factory=list)  # download: the count at each message (short transfers)
    source: str = ""
    stop: str = "max_duration"
    duration_s: float = 0.0
    wire_bytes: int = 0  # bytes this connection moved, both ways, as the client's kernel counts them
    app_bytes: int = 0
    retrans_bytes: int | None = None  # bytes the sending side retransmitted
    sent_bytes: int | None = None  # bytes the sending side sent (retransmissions included)
    loaded_rtt_ms: list[float] = field(default_factory=list)  # the sender's TCP RTT during the transfer
    local_addr: str | None = None
    cpu_s: float = 0.0  # this process's CPU time during the transfer
    wait_s: float | None = None  # time its threads were runnable but kept off a CPU (Linux), None unknown
    server: list[dict[str, float]] = field(default_factory=list)  # each server measurement (server_row)
    sent: list[tuple[float, int, int | None]] = field(default_factory=list)  # upload: (t, app sent, acked)


def ndt7_urls(server: str, metadata: dict[str, str] | None = None) -> tuple[str, str]:
    """Download and upload URLs from a base (``http(s)``/``ws(s)``) or a subtest URL."""
    parts = urlsplit(server)
    scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(parts.scheme)
    if scheme is None or not parts.netloc:
        raise ValueError(f"not an ndt7 server URL: {server!r}")
    path = parts.path.rstrip("/")
    for suffix in ("/ndt/v7/download", "/ndt/v7/upload"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
    query = parts.query or urlencode(metadata or {})

    def url(test: str) -> str:
        return urlunsplit((scheme, parts.netloc, f"{path}/ndt/v7/{test}", query, ""))

    return url("download"), url("upload")


def connect_rtt_ms(host: str, port: int, timeout: float,
                   monotonic: Callable[[], float] = time.perf_counter) -> float | None:
    """One TCP handshake's duration to ``host:port`` in ms (None when it failed)."""
    start = monotonic()
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return (monotonic() - start) * 1000.0
    except OSError:
        return None


def host_port(url: str) -> tuple[str, int]:
    """The host and port a ws(s) URL connects to."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "wss" else 80)
    return parts.hostname or "", port


def _open(url: str, limits: Limits) -> Any:
    from websockets.sync.client import connect

    headers = {"Authorization": f"Bearer {limits.credential}"} if limits.credential else None
    ws = connect(url, subprotocols=[SUBPROTOCOL], compression=None,  # type: ignore[list-item]
                 max_size=MAX_MESSAGE, open_timeout=limits.open_timeout_s, close_timeout=2.0,
                 user_agent_header="socle-agent ndt7", additional_headers=headers)
    ws.__enter__()  # websockets wants its context entered; _close() ends it
    if ws.subprotocol != SUBPROTOCOL:
        ws.close()
        raise ConnectionError(f"server did not accept subprotocol {SUBPROTOCOL}")
    return ws


def _close(ws: Any, sock: Any, transfer: Transfer) -> None:
    """Close the WebSocket, then count the connection's bytes, tail of the close included.

    A duplicate of the descriptor keeps the kernel socket readable after the
    library has closed its own.
    """
    try:
        spare: socket.socket | None = socket.socket(fileno=os.dup(sock.fileno()))
    except OSError:
        spare = None
    try:
        ws.close()
    except Exception:  # the transfer is over; closing is best effort
        log.debug("ndt7 close failed", exc_info=True)
    if spare is None:
        return
    with spare:
        tcp = read_tcp_info(spare)
    if tcp and "BytesReceived" in tcp:
        transfer.wire_bytes = tcp["BytesReceived"] + tcp["BytesAcked"]


def _decide(transfer: Transfer, elapsed: float, moved: int, limits: Limits) -> str | None:
    if moved >= limits.byte_cap:
        return "byte_cap"
    if elapsed >= limits.max_duration_s:
        return "max_duration"
    if elapsed >= limits.min_duration_s and is_stable(transfer.samples, limits.stable_tolerance_pct):
        return "stable"
    return None


def _cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def run_delay_s(proc: Path = Path("/proc/self")) -> float | None:
    """Seconds this process's live threads have waited on a run queue (``schedstat``); None off Linux."""
    total = 0
    try:
        for task in (proc / "task").iterdir():
            total += int((task / "schedstat").read_text(encoding="ascii").split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return total / 1e9


def _waited(before: float | None) -> float | None:
    after = run_delay_s()
    return None if before is None or after is None else max(0.0, after - before)


def download(url: str, limits: Limits, monotonic: Callable[[], float] = time.perf_counter,
             sleep: Callable[[float], None] = time.sleep) -> Transfer:
    """Run the download subtest against ``url``."""
    from websockets.exceptions import ConnectionClosed

    tr = Transfer("download")
    ws = _open(url, limits)
    sock = ws.socket
    tr.local_addr = sock.getsockname()[0]
    base = read_tcp_info(sock)
    kernel = base is not None and "BytesReceived" in base
    tr.source = "client_tcp_info" if kernel else "client_app"
    b0 = base["BytesReceived"] if base and kernel else 0
    server_last: dict[str, Any] | None = None
    wait0, cpu0, t0 = run_delay_s(), _cpu_s(), monotonic()
    tr.fine.append((0.0, 0))
    next_tick = t0 + TICK_S
    try:
        while True:
            try:
                msg = ws.recv(timeout=max(0.0, next_tick - monotonic()))
            except TimeoutError:
                msg = None
            if isinstance(msg, str):
                if (parsed := _json(msg)) is not None:
                    server_last = parsed
                    tr.server.append(server_row(parsed, monotonic() - t0))
                rtt = ((server_last or {}).get("TCPInfo") or {}).get("RTT")
                if isinstance(rtt, int | float) and rtt > 0:  # the sender's smoothed RTT, in µs
                    tr.loaded_rtt_ms.append(rtt / 1000.0)
            elif msg is not None:
                tr.app_bytes += len(msg)
            now = monotonic()
            if msg is not None and not isinstance(msg, str):
                fine = read_tcp_info(sock) if kernel else None
                tr.fine.append((now - t0, fine["BytesReceived"] - b0 if fine else tr.app_bytes))
            capped = tr.app_bytes >= limits.byte_cap  # checked per message: fast links overshoot a tick
            if now < next_tick and not capped:
                continue
            next_tick = max(next_tick + TICK_S, now + TICK_S / 2)
            tcp = read_tcp_info(sock) if kernel else None
            count = tcp["BytesReceived"] - b0 if tcp else tr.app_bytes
            if tcp and not capped:
                moved = read_when_moved(sock, "BytesReceived", monotonic, sleep)
                if moved is not None:
                    now, count = moved[0], moved[1]["BytesReceived"] - b0
            tr.samples.append((now - t0, count))
            _tell_rate(limits, now - t0, count)
            if stop := _decide(tr, now - t0, count, limits):
                tr.stop = stop
                break
    except ConnectionClosed:
        tr.stop = "server_closed"
    tr.duration_s = monotonic() - t0
    tr.cpu_s = _cpu_s() - cpu0
    tr.wait_s = _waited(wait0)
    _close(ws, sock, tr)
    server_tcp = (server_last or {}).get("TCPInfo") or {}
    if "BytesRetrans" in server_tcp and "BytesSent" in server_tcp:
        tr.retrans_bytes, tr.sent_bytes = int(server_tcp["BytesRetrans"]), int(server_tcp["BytesSent"])
    return tr


SERVER_FIELDS = {"TCPInfo": ("ElapsedTime", "BytesReceived", "BytesAcked", "LastDataRecv", "RTT"),
                 "AppInfo": ("ElapsedTime", "NumBytes")}


def server_row(msg: dict[str, Any], at: float) -> dict[str, float]:
    """A server measurement's counts and times, kept for the record (``at``: client's elapsed s)."""
    row: dict[str, float] = {"at": round(at, 6)}
    for section, keys in SERVER_FIELDS.items():
        part = msg.get(section) or {}
        for key in keys:
            if isinstance(part.get(key), int | float):
                row[f"{section}.{key}"] = part[key]
    return row


def _server_sample(msg: dict[str, Any]) -> tuple[Sample, str, int | None] | None:
    """(time, count) from a server measurement, its source, and its application count.

    With the kernel's count, the time is that of the last data received
    (``LastDataRecv``, ms ago): a measurement taken after the client stopped
    sending then dates its count from when the bytes arrived, not later.
    """
    tcp = msg.get("TCPInfo") or {}
    app = msg.get("AppInfo") or {}
    app_bytes = int(app["NumBytes"]) if isinstance(app.get("NumBytes"), int) else None
    if "BytesReceived" in tcp and "ElapsedTime" in tcp:
        t = tcp["ElapsedTime"] / 1e6
        idle = tcp.get("LastDataRecv")
        if isinstance(idle, int) and 0 < idle / 1e3 < t:
            t -= idle / 1e3
        return (t, int(tcp["BytesReceived"])), "server_tcp_info", app_bytes
    if app_bytes is not None and "ElapsedTime" in app:
        return (app["ElapsedTime"] / 1e6, app_bytes), "server_app_info", app_bytes
    return None


def upload(url: str, limits: Limits, monotonic: Callable[[], float] = time.perf_counter) -> Transfer:
    """Run the upload subtest against ``url``; the figure comes from the server's counts."""
    from websockets.exceptions import ConnectionClosed

    tr = Transfer("upload")
    ws = _open(url, limits)
    sock = ws.socket
    tr.local_addr = sock.getsockname()[0]
    limit_unsent(sock, UNSENT_LOWAT)
    payload = os.urandom(UPLOAD_MAX_MESSAGE)
    size = UPLOAD_MIN_MESSAGE
    server_b0: int | None = None
    wait0, cpu0, t0 = run_delay_s(), _cpu_s(), monotonic()
    server_app = 0

    def read_server(timeout: float) -> bool:
        """Take the server's measurements waiting (or the next within ``timeout``); False if none."""
        nonlocal server_b0, server_app
        got_one = False
        while True:
            try:
                text = ws.recv(timeout=timeout)
            except TimeoutError:
                return got_one
            msg = _json(text) if isinstance(text, str) else None
            got = _server_sample(msg) if msg else None
            if got is None:
                continue
            at = monotonic() - t0
            tr.server.append(server_row(msg or {}, at))
            (t, b), tr.source, app = got
            if server_b0 is None:  # the kernel's count includes the upgrade request: the app count's gap
                server_b0 = b - app if tr.source == "server_tcp_info" and app is not None and b >= app else 0
            tr.samples.append((max(t, tr.samples[-1][0]), b - server_b0))
            _tell_rate(limits, tr.samples[-1][0], tr.samples[-1][1])
            server_app = app if app is not None else server_app
            mine = read_tcp_info(sock)  # this side sends: its smoothed RTT is the loaded one
            if mine and mine.get("RTT"):
                tr.loaded_rtt_ms.append(mine["RTT"] / 1000.0)
            tr.sent.append((round(at, 6), tr.app_bytes, (mine or {}).get("BytesAcked")))
            got_one, timeout = True, 0

    try:
        while True:
            ws.send(payload[:size])
            tr.app_bytes += size
            if size < UPLOAD_MAX_MESSAGE and size <= tr.app_bytes // 16:
                size *= 2
            read_server(0)
            if stop := _decide(tr, monotonic() - t0, tr.app_bytes, limits):
                tr.stop = stop
                break
    except ConnectionClosed:
        tr.stop = "server_closed"
    tr.duration_s = monotonic() - t0
    tr.cpu_s = _cpu_s() - cpu0
    tr.wait_s = _waited(wait0)
    # A short transfer (byte cap on a fast link) may end before the server's first
    # measurement: wait for one that counts everything sent.
    if tr.stop != "server_closed" and (tr.stop == "byte_cap" or tr.duration_s < SHORT_S):
        deadline = monotonic() + FINAL_WAIT_S
        try:
            while server_app < tr.app_bytes and (left := deadline - monotonic()) > 0:
                if not read_server(left):
                    break
        except ConnectionClosed:
            log.info("ndt7 server closed before counting the whole upload")
    tcp = read_tcp_info(sock)
    if tcp and "BytesRetrans" in tcp:
        tr.retrans_bytes, tr.sent_bytes = tcp["BytesRetrans"], tcp["BytesSent"]
    _close(ws, sock, tr)
    return tr


def _json(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def idle_rtts(url: str, samples: int, interval_s: float, sleep: Callable[[float], None]) -> list[float]:
    """TCP handshake times to the server with the link idle (failed ones left out)."""
    host, port = host_port(url)
    out: list[float] = []
    for i in range(samples):
        if i:
            sleep(interval_s)
        rtt = connect_rtt_ms(host, port, timeout=2.0)
        if rtt is not None:
            out.append(rtt)
    return out


def median_or_none(values: list[float]) -> float | None:
    """The median, or None for no values."""
    return statistics.median(values) if values else None


TransferFunction = Callable[[str, Limits, Callable[[], float]], Transfer]
