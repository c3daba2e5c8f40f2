"""Turn reports into the samples that readiness rules read."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime

from config.readiness import Sample
from config.wire import ProbeStatus, Report, WifiSurveyMeasurement

_JUDGED = (ProbeStatus.ok, ProbeStatus.degraded)
# A room survey's link properties, judged like a periodic Wi-Fi reading's (W8, W11, W12).
_SURVEY_AS_WIFI = ("security_level", "channel_plan_ok", "channel_utilisation_pct")
_FINITE = math.isfinite

# (metric, value, taken_at, limited_by): a sample without its room and device, which are the report's.
Value = tuple[str, float, datetime, str | None]


def device_name(report: Report) -> str:
    """How samples name the measuring device: the host name, then the start of the agent's own id."""
    return f"{report.device.hostname}#{str(report.device.instance_id)[:8]}"


def _survey_values(m: WifiSurveyMeasurement, taken_at: datetime) -> Iterator[Value]:
    """A room survey as ``wifi.*`` values: one signal and one SNR per reading, at its own time."""
    for r in m.readings:
        for name in ("signal_dbm", "snr_db"):
            value = getattr(r, name)
            if value is not None:
                yield f"wifi.{name}", float(value), r.taken_at, None
    for name in _SURVEY_AS_WIFI:
        value = getattr(m, name)
        if value is not None:
            yield f"wifi.{name}", float(value), taken_at, None


def report_values(report: Report) -> Iterator[Value]:
    """Every numeric (or boolean) measured value of a report, as ``probe.field`` metrics.

    Results that are ``unavailable`` or ``error`` give nothing: what was not
    measured stays absent. A measurement's ``limited_by`` field, when set, marks
    all of its values as limited by the client. A room survey also gives
    ``wifi.*`` values, so that rules written for the Wi-Fi probe judge surveyed
    rooms too.
    """
    taken_at = report.taken_at
    for result in report.results:
        m = result.measurement
        if m is None or result.status not in _JUDGED:
            continue
        if isinstance(m, WifiSurveyMeasurement):
            yield from _survey_values(m, taken_at)
        limited = getattr(m, "limited_by", None)
        if not isinstance(limited, str):
            limited = None
        prefix = result.probe + "."
        for name, value in m.__dict__.items():
            kind = type(value)
            if kind is bool:
                yield prefix + name, 1.0 if value else 0.0, taken_at, limited
            elif (kind is float or kind is int) and _FINITE(value):
                yield prefix + name, float(value), taken_at, limited


def samples_from_report(report: Report) -> Iterator[Sample]:
    """Every value of :func:`report_values` as a :class:`Sample` with the report's room and device."""
    device = device_name(report)
    for metric, value, taken_at, limited_by in report_values(report):
        yield Sample(metric=metric, value=value, taken_at=taken_at, room=report.room, device=device,
                     limited_by=limited_by)
