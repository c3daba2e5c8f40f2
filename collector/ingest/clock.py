"""Where in time a report belongs when the machine that took it had its clock wrong.

An agent dates its report by its own clock. Its device probe also measures how
far that clock is from the collector's (``device.clock_offset_ms``, the
collector's clock minus the agent's, from the ``Date`` header of an answer): a
report taken while the clock was two years off says so itself. Ingest places
such a report at the collector's time of the measurement, its samples with it
(survey readings included), and keeps the report's own JSON as it came. A
report whose clock cannot be checked is placed at its reception when its date
cannot be right — later than its reception, or older than any spool keeps a
report. :func:`placement` says by how much, and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from config.readiness import CLOCK_SKEW
from config.wire import DeviceMeasurement, ProbeStatus, Report

OFF_BY = CLOCK_SKEW  # a clock further off than the judges' allowance is corrected
OLDEST = timedelta(days=400)  # older than any spool keeps a report (its longest setting is a year)


@dataclass(frozen=True)
class Placement:
    """How much to move a report's times by, and why (``shift`` zero: left as dated)."""

    shift: timedelta = timedelta(0)
    why: str | None = None


def measured_offset(report: Report) -> timedelta | None:
    """The collector's clock minus the agent's, as the report's own device probe measured it."""
    for result in report.results:
        m = result.measurement
        if isinstance(m, DeviceMeasurement) and result.status in (ProbeStatus.ok, ProbeStatus.degraded) \
                and m.clock_offset_ms is not None:
            return timedelta(milliseconds=m.clock_offset_ms)
    return None


def placement(report: Report, received_at: datetime) -> Placement:
    """Where ``report`` (received at ``received_at``, the collector's clock) belongs in time."""
    offset = measured_offset(report)
    if offset is not None and abs(offset) > OFF_BY:
        return Placement(offset, f"the agent's clock was off by {offset.total_seconds():+.0f} s")
    if offset is None or abs(offset) <= OFF_BY:
        if report.taken_at > received_at + OFF_BY:
            return Placement(received_at - report.taken_at, "dated after its reception: placed at it")
        if offset is None and report.taken_at < received_at - OLDEST:
            return Placement(received_at - report.taken_at, "dated before any spool keeps a report: "
                                                            "placed at its reception")
    return Placement()
