"""The Wi-Fi probe: the link in use and the networks around it, through each OS's own tools."""

from __future__ import annotations

import logging

from config.wire import ProbeStatus, WifiInterfaceState, WifiMeasurement
from probes.base import CommandResult, Outcome, ProbeContext, ProbeSpec, ToolMissing
from probes.wifi import iw, linux, macos, windows
from probes.wifi.common import ParseError, finish

log = logging.getLogger(__name__)
TIMEOUT_S = 20.0
WDUTIL = ["wdutil", "info"]
SYSTEM_PROFILER = ["system_profiler", "SPAirPortDataType", "-json"]


def argv_for(os_name: str, step: str, interface: str | None = None) -> list[str]:
    """The command for one step of the reading on one OS (pure)."""
    table: dict[tuple[str, str], list[str]] = {
        ("linux", "interfaces"): ["iw", "dev"],
        ("linux", "link"): ["iw", "dev", interface or "", "link"],
        ("linux", "scan"): ["iw", "dev", interface or "", "scan", "dump"],
        ("linux", "nmcli"): ["nmcli", "-t", "-f", "IN-USE,BSSID,SSID,MODE,CHAN,RATE,SIGNAL,BARS,SECURITY",
                             "device", "wifi", "list"],
        ("windows", "link"): ["netsh", "wlan", "show", "interfaces"],
        ("windows", "scan"): ["netsh", "wlan", "show", "networks", "mode=bssid"],
        ("darwin", "link"): SYSTEM_PROFILER,
        ("darwin", "wdutil"): WDUTIL,
    }
    try:
        return table[(os_name, step)]
    except KeyError:
        raise ValueError(f"no {step!r} step on {os_name!r}") from None


def _call(ctx: ProbeContext, argv: list[str]) -> CommandResult:
    return ctx.run(argv, TIMEOUT_S)


def _with_neighbours(link: Outcome, scan: WifiMeasurement | None) -> Outcome:
    """The link's outcome with a scan's neighbours (and same-channel count) added."""
    m = link.measurement
    if scan is None or not isinstance(m, WifiMeasurement) or not scan.neighbours:
        return link
    values = m.model_dump(exclude={"neighbours", "missing", "kind", "tool", "same_channel_networks"})
    if m.channel is not None:
        values["same_channel_networks"] = sum(
            1 for n in scan.neighbours if n.channel == m.channel and n.band == m.band
            and n.bssid != m.bssid)
    merged = WifiMeasurement(tool=f"{m.tool}+{scan.tool}", neighbours=scan.neighbours,
                             missing=m.missing, **values)
    return Outcome(link.status, merged, link.reason)


def _linux(ctx: ProbeContext) -> Outcome:
    try:
        dev = _call(ctx, argv_for("linux", "interfaces"))
    except ToolMissing:
        return _linux_nmcli(ctx, "iw not installed")
    if dev.returncode != 0:
        return _linux_nmcli(ctx, f"iw dev failed: {dev.stderr.strip()[:200]}")
    try:
        ifaces = [i for i in linux.parse_iw_dev(dev.stdout)
                  if i.get("mode") == "station" and i.get("interface")]
    except ParseError:
        ifaces = []
    if not ifaces:
        return Outcome.unavailable("no wireless interface")
    # the connected card wins wherever iw lists it; a second connected card is reported beside it
    chosen, others = iw.choose_interface(ifaces)
    name = chosen["interface"]
    res = _call(ctx, argv_for("linux", "link", name))
    link = linux.parse_iw_link(res.stdout)
    if others and isinstance(link.measurement, WifiMeasurement):
        extra = [iw.other_state(o) for o in others]
        link = Outcome(link.status, link.measurement.model_copy(update={
            "other_interfaces": [WifiInterfaceState(**e) for e in extra]}), link.reason)
    scan = None
    try:
        sres = _call(ctx, argv_for("linux", "scan", name))
        if sres.returncode == 0 and sres.stdout.strip():
            sm = linux.parse_iw_scan(sres.stdout).measurement
            scan = sm if isinstance(sm, WifiMeasurement) else None
    except (ParseError, TimeoutError) as exc:
        log.info("iw scan dump unreadable: %s", exc)
    return _with_neighbours(link, scan)


def _linux_nmcli(ctx: ProbeContext, why: str) -> Outcome:
    from probes.wifi.nmcli import parse_nmcli

    try:
        res = _call(ctx, argv_for("linux", "nmcli"))
    except ToolMissing:
        return Outcome.unavailable(f"{why}, and nmcli not installed")
    if res.returncode != 0 or not res.stdout.strip():
        return Outcome.unavailable(f"{why}; nmcli lists no Wi-Fi network (no wireless interface?)")
    return parse_nmcli(res.stdout)


def _windows(ctx: ProbeContext) -> Outcome:
    try:
        res = _call(ctx, argv_for("windows", "link"))
    except ToolMissing:
        return Outcome.unavailable("netsh not found")
    link = windows.parse_netsh_interfaces(res.stdout)
    scan = None
    if link.status is ProbeStatus.ok:
        sres = _call(ctx, argv_for("windows", "scan"))
        try:
            sm = windows.outcome_netsh_networks(sres.stdout).measurement
            scan = sm if isinstance(sm, WifiMeasurement) else None
        except ParseError as exc:
            log.info("netsh show networks unreadable: %s", exc)
    return _with_neighbours(link, scan)


def _darwin(ctx: ProbeContext) -> Outcome:
    if ctx.privileged:
        try:
            res = _call(ctx, argv_for("darwin", "wdutil"))
            if res.returncode == 0:
                return macos.parse_wdutil(res.stdout)
        except (ToolMissing, ParseError) as exc:
            log.info("wdutil unusable, falling back to system_profiler: %s", exc)
    try:
        res = _call(ctx, argv_for("darwin", "link"))
    except ToolMissing:
        return Outcome.unavailable("system_profiler not found")
    return macos.parse_system_profiler(res.stdout)


def run(ctx: ProbeContext) -> Outcome:
    """Read the Wi-Fi link and scan with the tools of ``ctx.os_name``."""
    readers = {"linux": _linux, "windows": _windows, "darwin": _darwin}
    reader = readers.get(ctx.os_name)
    if reader is None:
        return Outcome.unavailable(f"no Wi-Fi reader for {ctx.os_name}")
    try:
        return reader(ctx)
    except ParseError as exc:
        return Outcome(ProbeStatus.error, None, f"unexpected tool output: {exc}")
    except TimeoutError as exc:
        return finish("wifi", {}, {}, unavailable=f"a Wi-Fi tool timed out: {exc}")


SPEC = ProbeSpec(
    name="wifi",
    run=run,
    summary="Wi-Fi link (signal, SNR, band, channel, security) and neighbouring networks",
)
