"""Two network namespaces joined by a veth pair, shaped with ``tc tbf``, for tests and benches.

    with shaped_link(down_mbit=20, up_mbit=5, loss_pct=1.0) as link:
        server = link.popen(link.server_ns, ["iperf3", "-s"])
        link.run(link.client_ns, ["iperf3", "-c", link.server_ip, "-t", "3"])

The *server* side's egress is shaped to ``down_mbit`` (what the client
downloads), the *client* side's egress to ``up_mbit``. ``loss_pct`` drops that
share of frames at random in both directions, where a network loses them: on
arrival, in the receiving namespace's ``raw PREROUTING`` (iptables ``statistic``).
A drop in the sender's own OUTPUT chain is not a network's loss: the send fails
with EPERM, ICMP senders see an error instead of a lost echo, and TCP takes it as
a local failure to retry, not a loss. With loss on, each side sends single
frames (``gso_max_segs 1``), so a drop takes one frame, not a sender's batch.
``queue_ms`` is how long a packet may wait in the shaper's queue (tbf ``latency``):
the bottleneck's buffer, 50 ms by default.
Namespace names carry the process id and a counter, so parallel runs on one
machine do not collide; everything is torn down on exit, processes first.
Needs root, ``ip`` and ``tc`` (and ``iptables`` for loss): :func:`unavailable`
says why not.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

SERVER_IP = "10.77.0.1"
CLIENT_IP = "10.77.0.2"
_counter = itertools.count()


def unavailable(need_iptables: bool = False) -> str | None:
    """Why shaped namespaces cannot be built here, or None when they can."""
    if os.geteuid() != 0:
        return "needs root for network namespaces"
    tools = ["ip", "tc"] + (["iptables"] if need_iptables else [])
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        return f"missing {', '.join(missing)}"
    probe = f"socle-probe-{os.getpid()}-{next(_counter)}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, check=False)
    if made.returncode != 0:
        return f"ip netns unavailable: {made.stderr.decode(errors='replace').strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True, check=False)
    return None


def _burst_bytes(mbit: float) -> int:
    # tbf needs a bucket of at least one timer tick of traffic (HZ may be 100) and two frames.
    return max(int(mbit * 1e6 / 8 / 100), 2 * 1514)


@dataclass
class Link:
    """A live shaped link: its namespaces, addresses, and the processes started in it."""

    server_ns: str
    client_ns: str
    server_ip: str = SERVER_IP
    client_ip: str = CLIENT_IP
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def run(self, ns: str, argv: Sequence[str], timeout: float = 60.0,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a command inside a namespace and wait for it."""
        return subprocess.run(["ip", "netns", "exec", ns, *argv], capture_output=True, text=True,
                              timeout=timeout, check=check)

    def popen(self, ns: str, argv: Sequence[str], **kwargs: object) -> subprocess.Popen[bytes]:
        """Start a long-running command inside a namespace; it is stopped when the link goes."""
        proc = subprocess.Popen(["ip", "netns", "exec", ns, *argv], **kwargs)  # type: ignore[call-overload]
        self.procs.append(proc)
        return proc


def _sh(*argv: str) -> None:
    subprocess.run(list(argv), check=True, capture_output=True)


@contextmanager
def shaped_link(down_mbit: float, up_mbit: float, loss_pct: float = 0.0,
                queue_ms: float = 50.0) -> Iterator[Link]:
    """Build the two namespaces and the shaped veth pair; tear everything down after."""
    tag = f"{os.getpid()}-{next(_counter)}"
    link = Link(server_ns=f"socle-s-{tag}", client_ns=f"socle-c-{tag}")
    veth_s, veth_c = f"vs{tag}"[:15], f"vc{tag}"[:15]
    try:
        _sh("ip", "netns", "add", link.server_ns)
        _sh("ip", "netns", "add", link.client_ns)
        _sh("ip", "link", "add", veth_s, "netns", link.server_ns, "type", "veth",
            "peer", "name", veth_c, "netns", link.client_ns)
        for ns, dev, ip, mbit in ((link.server_ns, veth_s, link.server_ip, down_mbit),
                                  (link.client_ns, veth_c, link.client_ip, up_mbit)):
            _sh("ip", "-n", ns, "addr", "add", f"{ip}/30", "dev", dev)
            _sh("ip", "-n", ns, "link", "set", "lo", "up")
            _sh("ip", "-n", ns, "link", "set", dev, "up")
            _sh("tc", "-n", ns, "qdisc", "add", "dev", dev, "root", "tbf", "rate", f"{mbit}mbit",
                "burst", str(_burst_bytes(mbit)), "latency", f"{queue_ms:g}ms")
            if loss_pct > 0:
                _sh("ip", "-n", ns, "link", "set", "dev", dev, "gso_max_segs", "1")
                _sh("ip", "netns", "exec", ns, "iptables", "-t", "raw", "-A", "PREROUTING", "-i", dev,
                    "-m", "statistic", "--mode", "random", "--probability", f"{loss_pct / 100:.4f}",
                    "-j", "DROP")
        yield link
    finally:
        for proc in link.procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        for ns in (link.server_ns, link.client_ns):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)
