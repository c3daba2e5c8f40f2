"""Pure arithmetic on a transfer's progress: steady rate, when to stop.

A transfer is a list of ``(elapsed_s, cumulative_bytes)`` samples taken about
every 250 ms on the receiving side. Its figure is the median (and p90) of the
per-interval rates over the *steady* part: the ramp-up (TCP slow start, the
shaper's initial burst) is left out instead of being averaged in.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

Sample = tuple[float, int]

MIN_INTERVAL_S = 0.05  # shorter gaps come from timer jitter, not from a rate
STEADY_FRACTION = 0.8  # an interval this close to the rest's median has left the ramp-up
STABLE_WINDOW = 8  # intervals (2 s at 250 ms) that must agree before stopping early


def interval_rates(samples: Sequence[Sample]) -> list[float]:
    """Mbit/s between consecutive samples (gaps shorter than 50 ms are merged)."""
    rates: list[float] = []
    if not samples:
        return rates
    t_prev, b_prev = samples[0]
    for t, b in samples[1:]:
        dt = t - t_prev
        if dt < MIN_INTERVAL_S:
            continue
        rates.append((b - b_prev) * 8 / dt / 1e6)
        t_prev, b_prev = t, b
    return rates


def steady_start(rates: Sequence[float]) -> int:
    """Index of the first steady interval: the first one after the first, within 80 % of what follows."""
    for i in range(1, len(rates)):
        if rates[i] >= STEADY_FRACTION * statistics.median(rates[i:]):
            return i
    return len(rates)


def steady_rates(samples: Sequence[Sample]) -> list[float]:
    """The per-interval rates after the ramp-up."""
    rates = interval_rates(samples)
    return rates[steady_start(rates):]


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
    """(median Mbit/s, p90 Mbit/s, number of steady intervals) of a transfer."""
    steady = steady_rates(samples)
    if not steady:
        return None, None, 0
    return statistics.median(steady), percentile(steady, 90), len(steady)


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
