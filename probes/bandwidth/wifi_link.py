"""The Wi-Fi reading taken with a bandwidth test, through the Wi-Fi probe's own readers.

On Linux the link of the very interface that carried the test is read
(``iw dev NAME link``); elsewhere the Wi-Fi probe's reading is kept when it
names that interface (or names none and is connected).
"""

from __future__ import annotations

import logging

from config.wire import BandwidthWifi, WifiMeasurement
from probes.base import Outcome, ProbeContext, ToolMissing
from probes.wifi import linux, probe
from probes.wifi.common import ParseError

log = logging.getLogger(__name__)
FIELDS = tuple(BandwidthWifi.model_fields)


def compact(m: WifiMeasurement) -> BandwidthWifi:
    """The link's properties a bandwidth result carries (no neighbours, no security)."""
    return BandwidthWifi(**{name: getattr(m, name) for name in FIELDS})


def _outcome(ctx: ProbeContext, interface: str) -> Outcome:
    if ctx.os_name == "linux":
        res = ctx.run(probe.argv_for("linux", "link", interface), probe.TIMEOUT_S)
        if res.returncode != 0:
            return Outcome.unavailable(f"iw dev {interface} link failed: {res.stderr.strip()[:200]}")
        return linux.parse_iw_link(res.stdout)
    return probe.run(ctx)


def reading(ctx: ProbeContext, interface: str) -> tuple[BandwidthWifi | None, str | None]:
    """The Wi-Fi link of ``interface`` now, or None and why (not wireless, no tool, not connected)."""
    try:
        outcome = _outcome(ctx, interface)
    except (ToolMissing, TimeoutError, ParseError) as exc:
        log.info("no Wi-Fi reading for %s: %s", interface, exc)
        return None, f"Wi-Fi reading failed: {exc}"
    m = outcome.measurement
    if not isinstance(m, WifiMeasurement):
        return None, outcome.reason or "no Wi-Fi reading"
    if m.connected is False:
        return None, outcome.reason or "not connected to a Wi-Fi network"
    if m.interface not in (None, interface):
        return None, f"the Wi-Fi reading is of {m.interface}, not {interface}"
    if m.interface is None:
        m = m.model_copy(update={"interface": interface})
    return compact(m), None
