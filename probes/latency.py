"""Latency to the collector: a series of small HTTP round trips, and whether the collector answered.

Each round trip is a GET of the collector's ``/healthz`` on a kept-alive
connection, so after the first one it measures the path, not TCP and TLS set-up
(the first, connection-opening trip is left out of the figures). That first
trip also says whether the collector can be reached over the school's link
(``internet_reachable``), which the uptime rule A13 counts in school hours.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence

from config import confidence
from config.wire import LatencyMeasurement, ProbeStatus
from probes.base import Outcome, ProbeContext, ProbeSpec


def jitter(rtts_ms: Sequence[float]) -> float | None:
    """Mean absolute difference of consecutive round trips (RFC 3550's idea, unsmoothed)."""
    if len(rtts_ms) < 2:
        return None
    return statistics.fmean(abs(b - a) for a, b in itertools.pairwise(rtts_ms))


def summarise(target: str, sent: int, rtts_ms: Sequence[float],
              reachable: bool | None = None) -> LatencyMeasurement:
    """Figures from the round trips that came back (``sent`` counts those that did not); ``reachable``:
    whether the collector answered at all.

    The loss comes with its 95 % interval; from too few round trips to judge
    (ten never are: none lost is 0-31 %), it is named in ``doubtful``.
    """
    missing: dict[str, str] = {}
    doubtful: dict[str, str] = {}
    low = high = None
    if sent:
        lost = sent - min(len(rtts_ms), sent)
        low, high = confidence.loss_interval_pct(lost, sent)
        if not confidence.loss_is_sound(low, high):
            doubtful["loss_pct"] = (f"{confidence.describe(lost, sent, low, high)}: too few round trips to "
                                    f"judge (an interval over {confidence.MAX_LOSS_INTERVAL_PCT:g} points)")
    if not rtts_ms:
        for key in ("rtt_min_ms", "rtt_median_ms", "rtt_max_ms", "jitter_ms"):
            missing[key] = "no round trip came back"
    j = jitter(rtts_ms)
    if j is None and rtts_ms:
        missing["jitter_ms"] = "one round trip is not enough for jitter"
    return LatencyMeasurement(
        target=target,
        samples_sent=sent,
        samples_ok=len(rtts_ms),
        rtt_min_ms=round(min(rtts_ms), 3) if rtts_ms else None,
        rtt_median_ms=round(statistics.median(rtts_ms), 3) if rtts_ms else None,
        rtt_max_ms=round(max(rtts_ms), 3) if rtts_ms else None,
        jitter_ms=None if j is None else round(j, 3),
        loss_pct=round(100.0 * (sent - len(rtts_ms)) / sent, 2) if sent else None,
        internet_reachable=reachable,
        loss_ci_low_pct=low,
        loss_ci_high_pct=high,
        missing=missing,
        doubtful=doubtful,
    )


def run(ctx: ProbeContext) -> Outcome:
    """Time ``samples`` small requests to the collector."""
    if not ctx.collector_url:
        return Outcome.unavailable("no collector to measure: the agent is not enrolled")
    if ctx.http is None:
        return Outcome.unavailable("no HTTP session given to the probe")
    cfg = ctx.settings.probes.latency
    url = ctx.collector_url.rstrip("/") + "/healthz"
    rtts: list[float] = []
    errors: list[str] = []
    try:
        ctx.http.get(url, timeout=cfg.timeout_s).close()  # opens the connection
    except Exception as exc:  # noqa: BLE001 - any transport failure means "unreachable"
        # a finding, kept though the probe ends in error: the link (or the collector) did not answer
        return Outcome(ProbeStatus.error, summarise(url, 0, [], reachable=False),
                       f"collector unreachable at {url}: {type(exc).__name__}")
    for i in range(cfg.samples):
        if i:
            ctx.sleep(cfg.interval_s)
        start = ctx.monotonic()
        try:
            resp = ctx.http.get(url, timeout=cfg.timeout_s)
            resp.close()
        except Exception as exc:  # noqa: BLE001
            errors.append(type(exc).__name__)
            continue
        rtts.append((ctx.monotonic() - start) * 1000.0)
    m = summarise(url, cfg.samples, rtts, reachable=True)  # the opening request was answered
    if not rtts:
        return Outcome(ProbeStatus.error, m, f"no round trip to {url} succeeded ({errors[0]})")
    if errors:
        return Outcome(ProbeStatus.degraded, m, f"{len(errors)} of {cfg.samples} round trips failed")
    return Outcome.ok(m)


SPEC = ProbeSpec(
    name="latency",
    run=run,
    summary="Round-trip time, jitter and loss to the collector (HTTP)",
    needs=("collector",),
)
