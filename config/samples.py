"""Turn reports into the samples that readiness rules read."""

from __future__ import annotations

import math
from collections.abc import Iterator

from config.readiness import Sample
from config.wire import ProbeStatus, Report

_JUDGED = (ProbeStatus.ok, ProbeStatus.degraded)


def samples_from_report(report: Report) -> Iterator[Sample]:
    """Every numeric (or boolean) measured value of a report as a ``probe.field`` sample.

    Results that are ``unavailable`` or ``error`` give no samples: what was not
    measured stays absent. A measurement's ``limited_by`` field, when set, marks
    all of its samples as limited by the client.
    """
    # Readable and stable: the host name, then the start of the agent's own id.
    device = f"{report.device.hostname}#{str(report.device.instance_id)[:8]}"
    for result in report.results:
        m = result.measurement
        if m is None or result.status not in _JUDGED:
            continue
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
