"""Turn reports into the samples that readiness rules read."""

from __future__ import annotations

import math
from collections.abc import Iterator

from config.readiness import Sample
from config.wire import ProbeStatus, Report, WifiSurveyMeasurement

_JUDGED = (ProbeStatus.ok, ProbeStatus.degraded)
# A room survey's link properties, judged like a periodic Wi-Fi reading's (W8, W11, W12).
_SURVEY_AS_WIFI = ("security_level", "channel_plan_ok", "channel_utilisation_pct")


def survey_samples(m: WifiSurveyMeasurement, report: Report, device: str) -> Iterator[Sample]:
    """A room survey as ``wifi.*`` samples: one signal and one SNR per reading, at its own time."""
    for r in m.readings:
        for name in ("signal_dbm", "snr_db"):
            value = getattr(r, name)
            if value is not None:
                yield Sample(metric=f"wifi.{name}", value=float(value), taken_at=r.taken_at,
                             room=report.room, device=device)
    for name in _SURVEY_AS_WIFI:
        value = getattr(m, name)
        if value is not None:
            yield Sample(metric=f"wifi.{name}", value=float(value), taken_at=report.taken_at,
                         room=report.room, device=device)


def samples_from_report(report: Report) -> Iterator[Sample]:
    """Every numeric (or boolean) measured value of a report as a ``probe.field`` sample.

    Results that are ``unavailable`` or ``error`` give no samples: what was not
    measured stays absent. A measurement's ``limited_by`` field, when set, marks
    all of its samples as limited by the client. A room survey also gives
    ``wifi.*`` samples (see :func:`survey_samples`), so that rules written for
    the Wi-Fi probe judge surveyed rooms too.
    """
    # Readable and stable: the host name, then the start of the agent's own id.
    device = f"{report.device.hostname}#{str(report.device.instance_id)[:8]}"
    for result in report.results:
        m = result.measurement
        if m is None or result.status not in _JUDGED:
            continue
        if isinstance(m, WifiSurveyMeasurement):
            yield from survey_samples(m, report, device)
        limited = getattr(m, "limited_by", None)
        for name, value in m:
            if isinstance(value, bool):
                number = 1.0 if value else 0.0
            elif isinstance(value, int | float):
                number = float(value)
            else:
                continue
            if not math.isfinite(number):
                continue
            yield Sample(
                metric=f"{result.probe}.{name}",
                value=number,
                taken_at=report.taken_at,
                room=report.room,
                device=device,
                limited_by=limited if isinstance(limited, str) else None,
            )
