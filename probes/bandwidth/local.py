"""The agent's side of a bandwidth test: which interface, its speed, the CPU, the budget, loss."""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime
from pathlib import Path
from typing import Any

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
               best_mbps: float | None) -> str | None:
    """What on the agent's side may have capped the figure, or None.

    The agent's CPU first; then Wi-Fi whose rate is unknown or not well above the
    figure; then a wired link running close to its nominal speed.
    """
    if client_limited:
        return "client_cpu"
    if best_mbps is None:
        return None
    if wireless:
        if link_speed_mbps is None or best_mbps >= WIFI_SHARE * link_speed_mbps:
            return "wifi"
        return None
    if link_speed_mbps is not None and best_mbps >= WIRED_SHARE * link_speed_mbps:
        return "local_link"
    return None


def default_usage_file() -> Path:
    """Where the monthly byte count is kept when the settings do not say."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "socle" / "bandwidth-usage.json"


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


def icmp_loss_pct(host: str, count: int, timeout_s: float = 1.0) -> float | None:
    """Share of ICMP echoes to ``host`` that got no reply (scapy; needs raw-socket rights)."""
    from scapy.config import conf
    from scapy.layers.inet import ICMP, IP  # heavy: only when this runs
    from scapy.sendrecv import sr

    conf.verb = 0
    ident = os.getpid() & 0xFFFF
    packets = IP(dst=host) / ICMP(id=ident, seq=(1, count))
    answered, _ = sr(packets, inter=0.01, timeout=timeout_s, verbose=0)
    return round(100.0 * (count - len(answered)) / count, 2)
