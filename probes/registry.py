"""The one explicit list of probes. Add a probe by importing its module here.

Probe modules import their heavy libraries (scapy, websockets) inside the
functions that use them, so importing this registry stays cheap.
"""

from __future__ import annotations

from probes import bandwidth, device, displays, filtering, lan, latency, services, wifi
from probes.base import ProbeSpec

PROBES: dict[str, ProbeSpec] = {
    spec.name: spec
    for spec in (device.SPEC, latency.SPEC, bandwidth.SPEC, lan.SPEC, services.SPEC, filtering.SPEC,
                 wifi.SPEC, displays.SPEC)
}


def get(name: str) -> ProbeSpec:
    """A probe by name; KeyError lists the known ones."""
    try:
        return PROBES[name]
    except KeyError:
        raise KeyError(f"unknown probe {name!r}; known: {', '.join(sorted(PROBES))}") from None
