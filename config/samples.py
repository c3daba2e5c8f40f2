"""Turn reports into the samples that readiness rules read."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime
from itertools import repeat
from typing import NamedTuple

from config.confidence import loss_is_sound
from config.readiness import Sample
from config.wire import Measurement, ProbeStatus, Report, WifiSurveyMeasurement

_JUDGED = (ProbeStatus.ok, ProbeStatus.degraded)
# A room survey's link properties, judged like a periodic Wi-Fi reading's (W8, W11, W12).
_SURVEY_AS_WIFI = ("security_level", "channel_plan_ok", "channel_utilisation_pct")
_FINITE = math.isfinite

# (metric, value, taken_at, limited_by): a sample without its room and device, which are the report's.
Value = tuple[str, float, datetime, str | None]


def unjudged(fields: dict[str, object]) -> set[str]:
    """The fields of a measurement the rules must not judge: what its probe could not vouch for.

    Those its probe named in ``doubtful``, and every loss figure (a field named
    ``*loss_pct``) that does not come with a 95 % interval narrow enough
    (:func:`config.confidence.loss_is_sound`): a loss from ten round trips,
    or from a TCP retransmission count, which has no interval, is shown but
    never held for or against a school.
    """
    out = set(fields.get("doubtful") or ())  # type: ignore[call-overload]
    for name, value in fields.items():
        if name.endswith("loss_pct") and value is not None:
            base = name[: -len("loss_pct")]
            if not loss_is_sound(fields.get(f"{base}loss_ci_low_pct"),  # type: ignore[arg-type]
                                 fields.get(f"{base}loss_ci_high_pct")):  # type: ignore[arg-type]
                out.add(name)
    return out


def device_name(report: Report) -> str:
    """How samples name the measuring device: the host name, then the start of the agent's own id."""
    return f"{report.device.hostname}#{str(report.device.instance_id)[:8]}"


def _survey_values(m: WifiSurveyMeasurement, taken_at: datetime) -> Iterator[tuple[str, float, datetime]]:
    """A room survey as ``wifi.*`` values: one signal and one SNR per reading, at its own time."""
    for r in m.readings:
        for name in ("signal_dbm", "snr_db"):
            value = getattr(r, name)
            if value is not None:
                yield f"wifi.{name}", float(value), r.taken_at
    for name in _SURVEY_AS_WIFI:
        value = getattr(m, name)
        if value is not None:
            yield f"wifi.{name}", float(value), taken_at


def _kept_on_error(probe: str, m: Measurement, metrics: list[str], values: list[float]) -> None:
    """The fields a failed probe still measured (``Measurement.KEPT_ON_ERROR``), as booleans or numbers."""
    for name in m.KEPT_ON_ERROR:
        value = getattr(m, name, None)
        if isinstance(value, bool):
            metrics.append(f"{probe}.{name}")
            values.append(1.0 if value else 0.0)
        elif isinstance(value, int | float) and _FINITE(value):
            metrics.append(f"{probe}.{name}")
            values.append(float(value))


class Columns(NamedTuple):
    """A report's measured values as columns (what ingest stores, collector/db/sample_sets.py)."""

    metrics: list[str]
    values: list[float]
    times: list[datetime] | None  # each value's time, only when one differs from the report's
    limited: dict[int, str]  # value index -> what limited it, for values limited by the client


def report_columns(report: Report) -> Columns:
    """Every numeric (or boolean) measured value of a report, as ``probe.field`` metrics.

    Results that are ``unavailable`` give nothing, and those in ``error`` only the
    fields their measurement keeps on error (an unreachable collector: the latency
    probe's ``internet_reachable`` False): what was not measured stays absent, and
    neither do the fields a measurement's probe could not vouch for
    (:func:`unjudged`). A measurement's ``limited_by`` field, when set, marks all of
    its values as limited by the client. A room survey also gives ``wifi.*`` values,
    so that rules written for the Wi-Fi probe judge surveyed rooms too.
    """
    taken_at = report.taken_at
    metrics: list[str] = []
    values: list[float] = []
    times: list[datetime] | None = None
    limited: dict[int, str] = {}
    add_metric, add_value = metrics.append, values.append
    for result in report.results:
        m = result.measurement
        if m is None:
            continue
        if result.status not in _JUDGED:
            if result.status is ProbeStatus.error and m.KEPT_ON_ERROR:
                _kept_on_error(result.probe, m, metrics, values)
                if times is not None:
                    times.extend([taken_at] * (len(metrics) - len(times)))
            continue
        if isinstance(m, WifiSurveyMeasurement):
            for metric, value, at in _survey_values(m, taken_at):
                if times is None and at != taken_at:
                    times = [taken_at] * len(metrics)
                if times is not None:
                    times.append(at)
                add_metric(metric)
                add_value(value)
        fields = m.__dict__  # (getattr would go through pydantic's __getattr__ for a missing field)
        limited_by = fields.get("limited_by")
        prefix = result.probe + "."
        start = len(metrics)
        skip = unjudged(fields)
        for name, value in fields.items():
            if skip and name in skip:
                continue
            kind = type(value)
            if kind is float or kind is int:
                if _FINITE(value):
                    add_metric(prefix + name)
                    add_value(float(value))
            elif kind is bool:
                add_metric(prefix + name)
                add_value(1.0 if value else 0.0)
        if times is not None:
            times.extend([taken_at] * (len(metrics) - start))
        if isinstance(limited_by, str):
            limited.update(dict.fromkeys(range(start, len(metrics)), limited_by))
    return Columns(metrics, values, times, limited)


def report_values(report: Report) -> Iterator[Value]:
    """:func:`report_columns` value by value: (metric, value, taken_at, limited_by)."""
    columns = report_columns(report)
    times = columns.times or repeat(report.taken_at)
    for i, (metric, value, at) in enumerate(zip(columns.metrics, columns.values, times, strict=False)):
        yield metric, value, at, columns.limited.get(i)


def samples_from_report(report: Report) -> Iterator[Sample]:
    """Every value of :func:`report_values` as a :class:`Sample` with the report's room and device."""
    device = device_name(report)
    for metric, value, taken_at, limited_by in report_values(report):
        yield Sample(metric=metric, value=value, taken_at=taken_at, room=report.room, device=device,
                     limited_by=limited_by)
