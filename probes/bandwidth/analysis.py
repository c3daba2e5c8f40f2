"""Pure arithmetic on a transfer's progress: steady rate, when to stop.

A transfer is a list of ``(elapsed_s, cumulative_bytes)`` samples taken about
every 250 ms on the receiving side. Its figure is the median (and p90) of the
rates over 1-second windows (sliding by one sample) across the *steady* part:
the ramp-up (TCP slow start, the shaper's initial burst) is left out instead of
being averaged in. One-second windows rather than 250 ms intervals because a
slow link delivers few packets per interval: at 1 Mbit/s, 250 ms is 21.6
packets, and the median of counts that are 21 or 22 is biased by up to 2 %.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence

Sample = tuple[float, int]

MIN_INTERVAL_S = 0.05  # shorter gaps come from timer jitter, not from a rate
STEADY_FRACTION = 0.8  # an interval this close to the rest's median has left the ramp-up
STABLE_WINDOW = 8  # intervals (2 s at 250 ms) that must agree before stopping early
MIN_WARMUP_S = 1.0  # always ramp-up: slow start, and the shaper's token bucket draining
WINDOW_S = 1.0  # at least; longer on slow links, to hold ~200 full-size packets
WINDOW_PACKETS = 200
MAX_WINDOW_S = 3.0
SHORT_REFERENCE_S = 2.5  # a transfer too short for the above is analysed as if it lasted this long


def _kept(samples: Sequence[Sample]) -> list[Sample]:
    """The samples that bound intervals: one closer than 50 ms to the last kept is merged into the next."""
    kept: list[Sample] = list(samples[:1])
    for t, b in samples[1:]:
        if t - kept[-1][0] >= MIN_INTERVAL_S:
            kept.append((t, b))
    return kept


def interval_rates(samples: Sequence[Sample]) -> list[float]:
    """Mbit/s between consecutive samples (gaps shorter than 50 ms are merged)."""
    kept = _kept(samples)
    return [(b1 - b0) * 8 / (t1 - t0) / 1e6 for (t0, b0), (t1, b1) in itertools.pairwise(kept)]


def steady_start(rates: Sequence[float], starts: Sequence[float] | None = None) -> int:
    """Index of the first steady interval.

    It starts at or after ``MIN_WARMUP_S`` (when the intervals' start times are
    given), is never the first, and runs within 80 % of the median of what
    follows. A token-bucket shaper lets a full bucket through at the start: on a
    1 Mbit/s link its two packets are 1 % of a 2 s window, so the first second
    is never counted (iperf3's ``-O`` does the same).
    """
    for i in range(1, len(rates)):
        if starts is not None and starts[i] < MIN_WARMUP_S:
            continue
        if rates[i] >= STEADY_FRACTION * statistics.median(rates[i:]):
            return i
    return len(rates)


def _steady(samples: Sequence[Sample]) -> tuple[list[Sample], list[float]]:
    """The samples bounding steady intervals, and those intervals' rates."""
    kept = _kept(samples)
    rates = interval_rates(kept)
    first = steady_start(rates, [t for t, _ in kept])
    return kept[first:], rates[first:]


def steady_rates(samples: Sequence[Sample]) -> list[float]:
    """The per-interval rates after the ramp-up."""
    return _steady(samples)[1]


def window_for(rate_mbps: float) -> float:
    """Window length holding ~200 full-size packets at ``rate_mbps``, within 1..3 s."""
    if rate_mbps <= 0:
        return MAX_WINDOW_S
    return min(MAX_WINDOW_S, max(WINDOW_S, WINDOW_PACKETS * 1448 * 8 / (rate_mbps * 1e6)))


def window_rates(samples: Sequence[Sample], window_s: float | None = None) -> list[float]:
    """Mbit/s over windows sliding by one sample, from the end of the ramp-up.

    The window is :func:`window_for` the steady intervals' median unless given;
    a steady part shorter than one window gives its one overall rate.
    """
    steady, rates = _steady(samples)
    if not rates:
        return []
    if window_s is None:
        window_s = window_for(statistics.median(rates))
    out: list[float] = []
    j = 0
    for i in range(len(steady)):
        while j < len(steady) and steady[j][0] - steady[i][0] < window_s - 1e-9:
            j += 1
        if j >= len(steady):
            break
        (t0, b0), (t1, b1) = steady[i], steady[j]
        out.append((b1 - b0) * 8 / (t1 - t0) / 1e6)
    if not out:
        (t0, b0), (t1, b1) = steady[0], steady[-1]
        out.append((b1 - b0) * 8 / (t1 - t0) / 1e6)
    return out


def percentile(values: Sequence[float], pct: float) -> float:
    """Linear-interpolated percentile (``pct`` in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * pct / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def summarise(samples: Sequence[Sample]) -> tuple[float | None, float | None, int]:
    """(median Mbit/s, p90 Mbit/s, number of steady windows) of a transfer."""
    windows = window_rates(samples)
    if not windows:
        return None, None, 0
    return statistics.median(windows), percentile(windows, 90), len(windows)


def short_summary(samples: Sequence[Sample]) -> tuple[float | None, float | None, int]:
    """(median, p90, windows) of a transfer too short for :func:`summarise` (a byte cap on a fast link).

    The same analysis on the transfer's own time scale: time is stretched so the
    transfer lasts 2.5 s, so the first 40 % counts as ramp-up (at least one
    interval) and windows span 40 % of it; rates are scaled back. With too few
    samples for that, the one rate between the first and the last sample, ramp-up
    included (a lower bound). None when nothing moved.
    """
    if len(samples) < 2:
        return None, None, 0
    (t0, b0), (t1, b1) = samples[0], samples[-1]
    span = t1 - t0
    if span <= 0 or b1 <= b0:
        return None, None, 0
    k = SHORT_REFERENCE_S / span
    stretched = [((t - t0) * k, b) for t, b in samples]
    windows = [w * k for w in window_rates(stretched, WINDOW_S)]
    if not windows:
        windows = [(b1 - b0) * 8 / span / 1e6]
    return statistics.median(windows), percentile(windows, 90), len(windows)


def is_stable(samples: Sequence[Sample], tolerance_pct: float) -> bool:
    """True once the last 2 s of steady intervals agree with each other and with the whole.

    The medians of the last two 1-second halves, and of the last 2 s against all
    steady intervals, must be within ``tolerance_pct`` of each other.
    """
    steady = steady_rates(samples)
    if len(steady) < STABLE_WINDOW:
        return False
    last = steady[-STABLE_WINDOW:]
    half = STABLE_WINDOW // 2
    a, b = statistics.median(last[:half]), statistics.median(last[half:])
    whole, recent = statistics.median(steady), statistics.median(last)
    if whole <= 0 or recent <= 0:
        return False
    tol = tolerance_pct / 100.0
    return abs(a - b) <= tol * recent and abs(recent - whole) <= tol * whole
