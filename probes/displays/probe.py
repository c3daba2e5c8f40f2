"""The displays probe: read each attached display's EDID with the OS's own means, decode, classify."""

from __future__ import annotations

import logging

from config.wire import ProbeStatus
from probes.base import CommandResult, Outcome, ProbeContext, ProbeSpec, ToolMissing
from probes.displays import linux, macos, windows
from probes.displays.reading import outcome

log = logging.getLogger(__name__)
TIMEOUT_S = 15.0


def argv_for(os_name: str, step: str) -> list[str]:
    """The command for one step of the reading on one OS (pure)."""
    table: dict[tuple[str, str], list[str]] = {
        ("linux", "xrandr"): ["xrandr", "--props"],
        ("windows", "wmi"): windows.argv(),
        ("darwin", "ioreg"): ["ioreg", "-lw0", "-r", "-c", "IODisplay"],
        ("darwin", "ioreg-arm"): ["ioreg", "-lw0", "-r", "-c", "AppleCLCD2"],
        ("darwin", "system_profiler"): ["system_profiler", "SPDisplaysDataType", "-json"],
    }
    try:
        return table[(os_name, step)]
    except KeyError:
        raise ValueError(f"no {step!r} step on {os_name!r}") from None


def _call(ctx: ProbeContext, os_name: str, step: str) -> CommandResult:
    return ctx.run(argv_for(os_name, step), TIMEOUT_S)


def _xrandr(ctx: ProbeContext, why: str) -> Outcome:
    """The X server's view, for drivers that expose no EDID in sysfs; unavailable outside a session."""
    try:
        res = _call(ctx, "linux", "xrandr")
    except ToolMissing:
        return Outcome.unavailable(f"{why}, and xrandr is not installed")
    if res.returncode != 0:
        return Outcome.unavailable(f"{why}, and xrandr failed: {res.stderr.strip()[:200] or 'no X display'}")
    readings = linux.parse_xrandr(res.stdout)
    return outcome("xrandr", readings, () if readings else (f"{why}; xrandr lists no connected output",))


def _linux(ctx: ProbeContext) -> Outcome:
    connectors = linux.read_drm(ctx.fs_root)
    if connectors is None:
        return _xrandr(ctx, "no /sys/class/drm (no graphics device, or a container)")
    readings = linux.parse_drm(connectors)
    if readings:
        return outcome("sysfs", readings)
    if not connectors:
        return _xrandr(ctx, "/sys/class/drm has no display connector")
    states = ", ".join(f"{c.name}: {c.status}" for c in connectors[:8])
    return _xrandr(ctx, f"no connected display on the DRM connectors ({states})")


def _windows(ctx: ProbeContext) -> Outcome:
    try:
        res = _call(ctx, "windows", "wmi")
    except ToolMissing:
        return Outcome.unavailable("PowerShell not found")
    if res.returncode != 0:
        return Outcome(ProbeStatus.error, None, f"PowerShell failed: {res.stderr.strip()[:300]}")
    readings = windows.parse_wmi_json(res.stdout)
    return outcome("wmi", readings, () if readings else (
        "WMI lists no active monitor (a virtual machine or a remote session may have none)",))


def _darwin(ctx: ProbeContext) -> Outcome:
    readings = []
    for step in ("ioreg", "ioreg-arm"):
        try:
            res = _call(ctx, "darwin", step)
        except ToolMissing:
            return Outcome.unavailable("ioreg not found")
        if res.returncode == 0:
            readings.extend(macos.parse_ioreg(res.stdout))
    if readings:
        return outcome("ioreg", readings)
    try:
        res = _call(ctx, "darwin", "system_profiler")
    except ToolMissing:
        return Outcome.unavailable("ioreg shows no display and system_profiler is not found")
    readings = macos.parse_system_profiler_json(res.stdout) if res.returncode == 0 else []
    return outcome("system_profiler", readings, () if readings else ("macOS lists no display",))


def run(ctx: ProbeContext) -> Outcome:
    """Read the attached displays with the means of ``ctx.os_name``."""
    readers = {"linux": _linux, "windows": _windows, "darwin": _darwin}
    reader = readers.get(ctx.os_name)
    if reader is None:
        return Outcome.unavailable(f"no display reader for {ctx.os_name}")
    try:
        return reader(ctx)
    except TimeoutError as exc:
        return Outcome.unavailable(f"a display tool timed out: {exc}")
    except ValueError as exc:  # a tool's output that is not what it should be (JSON, hex)
        return Outcome(ProbeStatus.error, None, f"unexpected tool output: {exc}")


SPEC = ProbeSpec(
    name="displays",
    run=run,
    summary="attached displays from their EDIDs: maker, model, size, connector, and kind "
            "(projector, interactive display, monitor, TV, internal panel)",
)
