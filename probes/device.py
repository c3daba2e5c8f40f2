"""Device health through psutil and the OS's own files.

Every value comes from the OS; one that the OS does not give is left out with
the reason, never guessed.
"""

from __future__ import annotations

import platform
from datetime import date
from pathlib import Path
from typing import Any

from config.loading import ConfigError
from config.os_support import find_row, load_os_support, support_ends
from config.wire import DeviceMeasurement, ProbeStatus
from probes.base import Outcome, ProbeContext, ProbeSpec
from probes.device_hw import (
    read_battery,
    read_clock_offset,
    read_disk_kind,
    read_link,
    read_temperature,
    windows_load_1m,
)

_GB = 1e9  # decimal gigabytes, as disk and RAM sizes are sold


def parse_os_release(text: str) -> dict[str, str]:
    """Parse ``/etc/os-release`` (os-release(5)): ``KEY=value`` lines, values maybe quoted.

    Sample::

        PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
        NAME="Debian GNU/Linux"
        VERSION_ID="12"
    """
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        out[key.strip()] = value
    return out


def parse_cpuinfo_model(text: str) -> str | None:
    """The first ``model name`` (x86) or ``Model`` (ARM boards) in ``/proc/cpuinfo``.

    Sample::

        processor\t: 0
        model name\t: Intel(R) Core(TM) i3-10110U CPU @ 2.10GHz
    """
    fallback = None
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip().lower()
        if key == "model name" and value.strip():
            return value.strip()
        if key in ("model", "hardware") and value.strip() and not value.strip().isdigit():
            fallback = fallback or value.strip()
    return fallback


def default_disk_path(os_name: str) -> str:
    """The system disk's mount point for an OS."""
    return "C:\\" if os_name == "windows" else "/"


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _os_identity(ctx: ProbeContext) -> tuple[str | None, str | None]:
    if ctx.os_name == "linux":
        text = _read(ctx.fs_root / "etc/os-release") or _read(ctx.fs_root / "usr/lib/os-release")
        if text:
            info = parse_os_release(text)
            return info.get("NAME") or "Linux", info.get("VERSION_ID") or info.get("VERSION")
        return "Linux", platform.release()
    if ctx.os_name == "darwin":
        return "macOS", platform.mac_ver()[0] or None
    if ctx.os_name == "windows":
        return "Windows", platform.version() or None
    return platform.system() or None, platform.release() or None


def windows_edition() -> str | None:
    """The Windows edition (``Professional``, ``Education``...), or None elsewhere."""
    edition = getattr(platform, "win32_edition", None)
    return edition() if edition else None


def os_support(ctx: ProbeContext, os_name: str | None,
               os_version: str | None) -> tuple[bool | None, date | None, dict[str, str]]:
    """Whether the vendor still supports this OS today, and until when (rule E7)."""
    if not os_name or not os_version:
        return None, None, {"os_supported": "the OS did not say its name and version"}
    try:
        table = load_os_support(ctx.settings.probes.os_support_file)
    except ConfigError as exc:
        return None, None, {"os_supported": f"support table unusable: {exc}"}
    row = find_row(table, os_name, os_version)
    if row is None:
        return None, None, {"os_supported": f"{os_name} {os_version} is not in the support table "
                            f"(checked {table.checked.isoformat()})"}
    ends = support_ends(row, windows_edition() if ctx.os_name == "windows" else None)
    return ctx.clock().date() <= ends, ends, {}


def measure(ctx: ProbeContext) -> DeviceMeasurement:
    """Read the device's health through the context's psutil facade."""
    ps: Any = ctx.ps()
    missing: dict[str, str] = {}
    os_name, os_version = _os_identity(ctx)
    if os_version is None:
        missing["os_version"] = "the OS did not say its version"

    cpu_model = None
    if ctx.os_name == "linux":
        text = _read(ctx.fs_root / "proc/cpuinfo")
        cpu_model = parse_cpuinfo_model(text) if text else None
    else:
        cpu_model = platform.processor() or None
    if cpu_model is None:
        missing["cpu_model"] = "the OS did not name the processor"

    physical = ps.cpu_count(logical=False)
    if physical is None:
        missing["cpu_cores_physical"] = "psutil could not count physical cores"
    load_1m = None
    try:
        load_1m = windows_load_1m(ps, ctx.monotonic, ctx.sleep) if ctx.os_name == "windows" else \
            float(ps.getloadavg()[0])
    except (AttributeError, OSError) as exc:
        missing["cpu_load_1m"] = f"load average not available: {exc}"

    vm = ps.virtual_memory()
    disk_path = str(ctx.settings.probes.disk_path or default_disk_path(ctx.os_name))
    disk_total = disk_free = disk_free_pct = None
    try:
        du = ps.disk_usage(disk_path)
        disk_total, disk_free = du.total / _GB, du.free / _GB
        disk_free_pct = 100.0 * du.free / du.total if du.total else None
    except OSError as exc:
        for key in ("disk_total_gb", "disk_free_gb", "disk_free_pct"):
            missing[key] = f"cannot read {disk_path}: {exc.strerror or exc}"

    uptime = None
    try:
        uptime = max(0.0, ctx.clock().timestamp() - float(ps.boot_time()))
    except OSError as exc:
        missing["uptime_s"] = f"boot time not available: {exc}"

    disk_kind, more = read_disk_kind(ctx, disk_path)
    missing.update(more)
    battery, more = read_battery(ctx)
    missing.update(more)
    link, more = read_link(ctx)
    missing.update(more)
    temperature, more = read_temperature(ctx)
    missing.update(more)
    offset, more = read_clock_offset(ctx)
    missing.update(more)
    supported, ends, more = os_support(ctx, os_name, os_version)
    missing.update(more)

    return DeviceMeasurement(
        disk_kind=disk_kind,
        disk_is_ssd=None if disk_kind is None else disk_kind == "ssd",
        os_supported=supported,
        os_support_ends=ends,
        clock_offset_ms=offset,
        temperature_c=temperature,
        **battery,
        **link,
        os_name=os_name,
        os_version=os_version,
        cpu_model=cpu_model,
        cpu_cores_physical=physical,
        cpu_cores_logical=ps.cpu_count(logical=True),
        cpu_load_1m=load_1m,
        ram_total_gb=round(vm.total / _GB, 3),
        ram_available_gb=round(vm.available / _GB, 3),
        disk_path=disk_path,
        disk_total_gb=None if disk_total is None else round(disk_total, 3),
        disk_free_gb=None if disk_free is None else round(disk_free, 3),
        disk_free_pct=None if disk_free_pct is None else round(disk_free_pct, 2),
        uptime_s=None if uptime is None else round(uptime, 1),
        missing=missing,
    )


def run(ctx: ProbeContext) -> Outcome:
    """Measure the device; a missing value makes the result ``degraded``, not wrong."""
    m = measure(ctx)
    judged = {"ram_total_gb", "disk_total_gb", "disk_free_pct", "cpu_cores_logical", "disk_kind",
              "os_supported"}
    status = ProbeStatus.degraded if judged & m.missing.keys() else ProbeStatus.ok
    return Outcome(status, m, "; ".join(f"{k}: {v}" for k, v in m.missing.items()) or None)


SPEC = ProbeSpec(name="device", run=run,
                 summary="CPU, RAM, disk, battery, link, clock and OS support of this machine")
