"""Hardware facts for the device probe: disk kind, battery, link, temperature, clock.

Pure parsers of the OS's own files and commands, plus small readers that take
the probe context. Each reader returns its values and a ``missing`` map of
reasons; it never guesses a value.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from probes.base import ProbeContext, ToolMissing
from probes.netinfo import default_route_source, interface_with_address, parse_proc_net_route

Missing = dict[str, str]


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None


# --- disk kind ---------------------------------------------------------------


def disk_kind_argv(os_name: str, disk_path: str) -> list[str] | None:
    """The command that says whether the system disk is an SSD (None on Linux: sysfs says)."""
    if os_name == "windows":
        letter = disk_path[:1] or "C"
        return ["powershell", "-NoProfile", "-Command",
                f"(Get-Partition -DriveLetter {letter} | Get-Disk | Get-PhysicalDisk).MediaType"]
    if os_name == "darwin":
        return ["diskutil", "info", disk_path]
    return None


def parse_disk_kind(os_name: str, text: str) -> str | None:
    """``ssd``, ``hdd`` or None from what the OS said.

    Linux ``/sys/block/DEV/queue/rotational``: ``0`` (SSD) or ``1`` (rotating).
    Windows ``Get-PhysicalDisk`` MediaType: ``SSD``, ``HDD`` or ``Unspecified``.
    macOS ``diskutil info /``: a line ``   Solid State:               Yes``.
    """
    if os_name == "linux":
        return {"0": "ssd", "1": "hdd"}.get(text.strip())
    if os_name == "windows":
        word = text.strip().splitlines()[0].strip().upper() if text.strip() else ""
        return {"SSD": "ssd", "HDD": "hdd"}.get(word)
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() == "Solid State":
            return "ssd" if value.strip().lower() == "yes" else "hdd"
    return None


def linux_block_disk(sys_root: Path, device: str) -> str | None:
    """The whole disk under a block device (``nvme0n1p2`` -> ``nvme0n1``; dm/md -> a member)."""
    name = os.path.basename(device)
    node = sys_root / "class/block" / name
    for _ in range(8):  # dm on md on a partition is as deep as it gets
        if not node.exists():
            return None
        slaves = sorted((node / "slaves").glob("*")) if (node / "slaves").is_dir() else []
        if slaves:
            node = sys_root / "class/block" / slaves[0].name
            continue
        if (node / "partition").exists():
            parent = node.resolve().parent.name
            node = sys_root / "class/block" / parent
            continue
        return node.name
    return None


def read_disk_kind(ctx: ProbeContext, disk_path: str) -> tuple[str | None, Missing]:
    """The system disk's kind, through sysfs (Linux) or the OS's disk command."""
    if ctx.os_name == "linux":
        parts = [p for p in ctx.ps().disk_partitions(all=False) if p.mountpoint == disk_path]
        if not parts:
            return None, {"disk_kind": f"{disk_path} is not a mounted block device"}
        disk = linux_block_disk(ctx.fs_root / "sys", os.path.realpath(parts[0].device))
        if disk is None:
            return None, {"disk_kind": f"{parts[0].device} is not a block device the kernel lists"}
        text = _read(ctx.fs_root / "sys/block" / disk / "queue/rotational")
        kind = parse_disk_kind("linux", text) if text is not None else None
        return kind, {} if kind else {"disk_kind": f"the kernel does not say whether {disk} rotates"}
    argv = disk_kind_argv(ctx.os_name, disk_path)
    if argv is None:
        return None, {"disk_kind": f"no way to read the disk kind on {ctx.os_name}"}
    try:
        res = ctx.run(argv, timeout=15)
    except (ToolMissing, TimeoutError) as exc:
        return None, {"disk_kind": str(exc)}
    kind = parse_disk_kind(ctx.os_name, res.stdout) if res.returncode == 0 else None
    return kind, {} if kind else {"disk_kind": f"{argv[0]} did not say whether the disk is an SSD"}


# --- battery -------------------------------------------------------------------


def parse_power_supply(uevent: str) -> dict[str, str]:
    """``/sys/class/power_supply/BAT0/uevent`` as a dict without the prefix.

    Sample::

        POWER_SUPPLY_NAME=BAT0
        POWER_SUPPLY_TYPE=Battery
        POWER_SUPPLY_ENERGY_FULL_DESIGN=57000000
        POWER_SUPPLY_ENERGY_FULL=48450000
        POWER_SUPPLY_CAPACITY=81
    """
    out = {}
    for line in uevent.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip().removeprefix("POWER_SUPPLY_")] = value.strip()
    return out


def battery_health_pct(info: dict[str, str]) -> float | None:
    """Full-charge capacity as a share of design capacity (energy, or charge on some laptops)."""
    for full, design in (("ENERGY_FULL", "ENERGY_FULL_DESIGN"), ("CHARGE_FULL", "CHARGE_FULL_DESIGN")):
        try:
            f, d = float(info[full]), float(info[design])
        except (KeyError, ValueError):
            continue
        if d > 0:
            return round(100.0 * f / d, 1)
    return None


def read_battery(ctx: ProbeContext) -> tuple[dict[str, Any], Missing]:
    """Battery presence, charge and health."""
    missing: Missing = {}
    values: dict[str, Any] = {"battery_present": None, "battery_charge_pct": None,
                              "battery_health_pct": None}
    batteries: list[dict[str, str]] = []
    if ctx.os_name == "linux":
        base = ctx.fs_root / "sys/class/power_supply"
        for entry in sorted(base.glob("*")) if base.is_dir() else []:
            info = parse_power_supply(_read(entry / "uevent") or "")
            # scope "Device": a mouse's or a pen's battery, not the machine's
            if info.get("TYPE") == "Battery" and info.get("SCOPE", "System") != "Device":
                batteries.append(info)
        values["battery_present"] = bool(batteries)
    try:
        state = ctx.ps().sensors_battery()
    except (AttributeError, NotImplementedError, OSError):
        state = None
    if state is not None:
        values["battery_present"] = True
        values["battery_charge_pct"] = round(float(state.percent), 1)
    if values["battery_present"] is None:
        missing["battery_present"] = "the OS reports no battery (none fitted, or it does not say)"
    if values["battery_present"] is False:
        missing["battery_charge_pct"] = missing["battery_health_pct"] = "no battery"
        return values, missing
    if values["battery_charge_pct"] is None and batteries and batteries[0].get("CAPACITY", "").isdigit():
        values["battery_charge_pct"] = float(batteries[0]["CAPACITY"])
    if values["battery_charge_pct"] is None:
        missing["battery_charge_pct"] = "the OS does not give the charge"
    if batteries:
        values["battery_health_pct"] = battery_health_pct(batteries[0])
    if values["battery_health_pct"] is None:
        missing["battery_health_pct"] = "the OS does not give the full and design capacities"
    return values, missing


# --- network link ------------------------------------------------------------


def read_link(ctx: ProbeContext, route_source: Callable[[], str | None] = default_route_source
              ) -> tuple[dict[str, Any], Missing]:
    """Speed and duplex of the interface that carries the default route: from ``/proc/net/route`` on
    Linux; elsewhere the interface holding the address the OS sends from by its default route (a UDP
    socket connected to a documentation address: nothing is sent), never merely the first one up."""
    ps = ctx.ps()
    values: dict[str, Any] = {"link_interface": None, "link_speed_mbps": None, "link_duplex": None}
    iface = None
    if ctx.os_name == "linux":
        route = parse_proc_net_route(_read(ctx.fs_root / "proc/net/route") or "")
        iface = route.interface if route else None
    else:
        iface = interface_with_address(route_source(), ps.net_if_addrs())
    stats = ps.net_if_stats()
    if iface is None or iface not in stats:
        reason = "no interface carries a default route"
        return values, dict.fromkeys(("link_interface", "link_speed_mbps", "link_duplex"), reason)
    values["link_interface"] = iface
    missing: Missing = {}
    st = stats[iface]
    if st.speed:
        values["link_speed_mbps"] = float(st.speed)
    else:
        missing["link_speed_mbps"] = f"the OS gives no link speed for {iface} (virtual or Wi-Fi)"
    duplex = {2: "full", 1: "half"}.get(int(st.duplex))
    values["link_duplex"] = duplex
    if duplex is None:
        missing["link_duplex"] = f"the OS does not know the duplex of {iface}"
    return values, missing


# --- load on Windows ------------------------------------------------------------

LOAD_SAMPLE_S = 5.0  # psutil's Windows emulation takes a sample every 5 s into a 1-minute average
_load_started: float | None = None  # when this process first asked (psutil's sampler started then)


def windows_load_1m(ps: Any, monotonic: Callable[[], float], sleep: Callable[[float], None]) -> float:
    """The load over a measured interval on Windows, from psutil's emulated 1-minute load average.

    Windows keeps no load average: psutil starts a thread on the first call that samples the
    processor queue every 5 s and averages it exponentially from zero, so its first answer is a
    meaningless 0.0 and the next ones stay low for a minute. This waits for one sample at least
    (measured with ``monotonic``), then divides the start-from-zero bias out:
    ``raw / (1 - exp(-elapsed / 60))`` is the samples' average over the interval since the start.
    """
    global _load_started
    if _load_started is None:
        ps.getloadavg()  # starts the sampler
        _load_started = monotonic()
    wait = _load_started + LOAD_SAMPLE_S * 1.1 - monotonic()
    if wait > 0:
        sleep(wait)
    samples = math.floor((monotonic() - _load_started) / LOAD_SAMPLE_S)
    raw = float(ps.getloadavg()[0])
    return raw / (1 - math.exp(-LOAD_SAMPLE_S * max(samples, 1) / 60.0))


# --- temperature ---------------------------------------------------------------


def hottest(readings: dict[str, Sequence[Any]]) -> float | None:
    """The highest current reading of psutil's ``sensors_temperatures()``."""
    temps = [float(r.current) for group in readings.values() for r in group
             if r.current is not None and -40 < float(r.current) < 150]
    return max(temps) if temps else None


def read_temperature(ctx: ProbeContext) -> tuple[float | None, Missing]:
    """The hottest temperature sensor, where the OS exposes any."""
    reader = getattr(ctx.ps(), "sensors_temperatures", None)
    if reader is None:
        return None, {"temperature_c": f"psutil reads no temperatures on {ctx.os_name}"}
    try:
        value = hottest(reader())
    except OSError as exc:
        return None, {"temperature_c": f"cannot read the sensors: {exc}"}
    return value, {} if value is not None else {"temperature_c": "the OS exposes no temperature sensor"}


# --- clock -----------------------------------------------------------------------


def clock_offset_ms(date_header: str, sent: datetime, received: datetime) -> float:
    """The server's clock minus ours, from an HTTP ``Date`` header (RFC 9110, 1 s resolution).

    ``Date: Sun, 29 Nov 2026 06:10:29 GMT`` truncates to the second, so half a
    second is added; our side is the middle of the request. The figure is only
    good to about ±0.5 s, enough to tell a clock hours or days off.
    """
    server = parsedate_to_datetime(date_header) + timedelta(milliseconds=500)
    ours = sent + (received - sent) / 2
    return round((server - ours).total_seconds() * 1000.0, 1)


def read_clock_offset(ctx: ProbeContext) -> tuple[float | None, Missing]:
    """Clock offset against the collector, through its ``Date`` header."""
    if not ctx.collector_url or ctx.http is None:
        return None, {"clock_offset_ms": "no collector to compare clocks with"}
    url = ctx.collector_url.rstrip("/") + "/healthz"
    sent = ctx.clock()
    try:
        resp = ctx.http.get(url, timeout=ctx.settings.collector.timeout_s)
    except Exception as exc:  # noqa: BLE001 - any transport failure: the offset is unknown
        return None, {"clock_offset_ms": f"collector unreachable: {type(exc).__name__}"}
    received = ctx.clock()
    header = resp.headers.get("Date")
    resp.close()
    if not header:
        return None, {"clock_offset_ms": "the collector sent no Date header"}
    try:
        return clock_offset_ms(header, sent, received), {}
    except (TypeError, ValueError):
        return None, {"clock_offset_ms": f"unreadable Date header {header[:40]!r}"}
