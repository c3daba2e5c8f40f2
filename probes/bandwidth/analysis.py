"""Pure arithmetic on a transfer's progress: steady rate, when to stop.

A transfer is a list of ``(elapsed_s, cumulative_bytes)`` samples taken about
every 250 ms on the receiving side. Its figure is the median (and p90) of the
rates over 1-second windows (sliding by one sample) across the *steady* part:
the ramp-up (TCP slow start, the shaper's initial burst) is left out instead of
being averaged in. One-second windows rather than 250 ms intervals because a
slow link delivers few packets per interval: at 1 Mbit/s, 250 ms is 21.6
packets, and the median of counts that are 21 or 22 is biased by up to 2 %.

Counts are of *in-order* bytes (the receiver's ``BytesReceived``): after a loss
the count stands still until the retransmission fills the hole, then jumps by
all that waited out of order (273 KB in 0.5 s on a 2 Mbit/s link with a 200 ms
bottleneck queue). A window that ends after a jump but starts inside its stall
reads high. So the steady part starts only where the count keeps pace for a
second (no hole pending), ends at a sample whose interval kept pace, and a
window starts and ends only at counts not held back (the intervals on both sides
within 10 % of the steady rate: after a partial repair the count can keep pace
for an interval while still behind): a stall and its jump inside one window cancel out,
while a real dip (a retransmission timeout, a busy client) stays a minority of
windows.
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
BAND = 0.1  # an interval's count this far from the steady rate's is a stall or a catch-up
BAND_MIN_BYTES = 2 * 1448  # ...and at least two full packets off (short intervals on slow links)
SETTLED_S = 1.0  # the steady part starts where this long of intervals keep pace
MIN_STEADY_S = 2.0  # the early stop needs this long of steady span
MEAN_FLOOR = 0.9  # a steady figure under this share of the span's mean rate read held-back counts
# The windows' p10-p90 spread past which they disagree: a steady shaped link spreads 0.06-1.5 %
# (docs/benchmarks.md); the early stop already asks 3 % of the last 2 s.
SPREAD_PCT = 3.0


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


def in_band(a: Sample, b: Sample, rate_mbps: float) -> bool:
    """True when the count from sample ``a`` to ``b`` is within 10 % (and two packets) of ``rate_mbps``."""
    expected = rate_mbps * 1e6 / 8 * (b[0] - a[0])
    return abs(b[1] - a[1] - expected) <= max(BAND * expected, BAND_MIN_BYTES)


def _catches_up(a: Sample, b: Sample, rate_mbps: float) -> bool:
    """True when the count from ``a`` to ``b`` is above :func:`in_band`'s: ``a`` was held back."""
    expected = rate_mbps * 1e6 / 8 * (b[0] - a[0])
    return b[1] - a[1] - expected > max(BAND * expected, BAND_MIN_BYTES)


def _settled_start(kept: Sequence[Sample], rates: Sequence[float], first: int) -> int | None:
    """The first index from ``first`` after which the count keeps pace (no hole pending); None if none.

    Keeping pace: every interval within 10 % of the median of the rest, for 1 s
    or to the end of the transfer. A sample taken while a hole waits for its
    retransmission has a count held back: the interval after it is a stall, or
    holds the catch-up jump.
    """
    for i in range(first, len(rates)):
        rate = statistics.median(rates[i:])
        j = i
        while j < len(rates) and in_band(kept[j], kept[j + 1], rate):
            if kept[j + 1][0] - kept[i][0] >= SETTLED_S - 1e-9:
                return i
            j += 1
        if j == len(rates):
            return i
    return None


def _settled_end(kept: Sequence[Sample], start: int, rate_mbps: float) -> int:
    """The last sample whose interval kept pace (not inside a stall); the last sample if none did."""
    for k in range(len(kept) - 1, start, -1):
        if in_band(kept[k - 1], kept[k], rate_mbps):
            return k
    return len(kept) - 1


def _steady_bounds(samples: Sequence[Sample]) -> tuple[list[Sample], list[float], int, int]:
    """The kept samples, their intervals' rates, and the steady span's first and last index.

    It starts after the ramp-up (:func:`steady_start`), later if a hole is still
    pending there, and ends at the last sample not inside a stall. No steady
    interval: first and last are past the rates.
    """
    kept = _kept(samples)
    rates = interval_rates(kept)
    first = steady_start(rates, [t for t, _ in kept])
    if first >= len(rates):
        return kept, rates, len(kept), len(kept)
    settled = _settled_start(kept, rates, first)
    if settled is not None:
        first = settled
    return kept, rates, first, _settled_end(kept, first, statistics.median(rates[first:]))


def _steady(samples: Sequence[Sample]) -> tuple[list[Sample], list[float]]:
    """The samples bounding the steady span, and its intervals' rates."""
    kept, rates, first, end = _steady_bounds(samples)
    return kept[first:end + 1], rates[first:end]


def span_rate(samples: Sequence[Sample]) -> float | None:
    """Mbit/s from the first to the last sample of the steady span; None without one.

    When the count never keeps pace after the ramp-up (holes all along, the last
    interval a stall or a jump), the rate since the transfer began: ramp-up
    included, so a lower bound, but never raised by a held-back count at its
    start (nothing is held back at the start).
    """
    kept = _kept(samples)
    rates = interval_rates(kept)
    first = steady_start(rates, [t for t, _ in kept])
    if first >= len(rates):
        return None
    if _settled_start(kept, rates, first) is None:
        (t0, b0), (t1, b1) = kept[0], kept[-1]
    else:
        steady, _ = _steady(samples)
        (t0, b0), (t1, b1) = steady[0], steady[-1]
    return (b1 - b0) * 8 / (t1 - t0) / 1e6


def span_mean(samples: Sequence[Sample]) -> float | None:
    """Mbit/s from the steady span's first sample to the transfer's last one; None without a span.

    Everything counted after the ramp-up, stalls, dips and a jump after the
    span's end included. A last count held back by a hole only lowers it, so a
    steady figure well below it read counts held back.
    """
    kept, rates, first, _ = _steady_bounds(samples)
    if first >= len(rates):
        return None
    (t0, b0), (t1, b1) = kept[first], kept[-1]
    return (b1 - b0) * 8 / (t1 - t0) / 1e6


def below_mean(figure: float, samples: Sequence[Sample]) -> float | None:
    """The span's mean rate (:func:`span_mean`) when ``figure`` is under 90 % of it, else None.

    A steady figure is the median of windows over the same span: on a correct
    reading it is at or above the mean (dips lower the mean, not the median).
    Well below it, the windows ended on counts held back by holes (a partial
    repair keeps pace while still behind, or the catch-up came after the span).
    """
    mean = span_mean(samples)
    return mean if mean is not None and figure < MEAN_FLOOR * mean else None


def steady_rates(samples: Sequence[Sample]) -> list[float]:
    """The per-interval rates after the ramp-up."""
    return _steady(samples)[1]


def window_for(rate_mbps: float) -> float:
    """Window length holding ~200 full-size packets at ``rate_mbps``, within 1..3 s."""
    if rate_mbps <= 0:
        return MAX_WINDOW_S
    return min(MAX_WINDOW_S, max(WINDOW_S, WINDOW_PACKETS * 1448 * 8 / (rate_mbps * 1e6)))


def window_rates(samples: Sequence[Sample], window_s: float | None = None) -> list[float]:
    """Mbit/s over windows sliding by one sample across the steady span, between counts not held back.

    The window is :func:`window_for` the steady intervals' median unless given.
    A window starts and ends only at a sample whose intervals on both sides keep
    pace (the span's first sample, and the transfer's last: their one interval): a
    count held back by a hole is followed by a stall or by the catch-up jump, and
    one a partial repair left behind comes after a stall. When the span ends
    before a catch-up jump (the jump's interval is outside the span), its last
    count was held back: no window ends there (windows ending at a count held
    back 100 KB on a 2 Mbit/s upload read 0.84-0.89 of the rate). A window
    spanning a whole stall and its jump reads right. A steady part shorter than
    one window gives its one overall rate.
    """
    kept, rates, first, end = _steady_bounds(samples)
    steady, rates = kept[first:end + 1], rates[first:end]
    if not rates:
        return []
    median = statistics.median(rates)
    if window_s is None:
        window_s = window_for(median)
    paced = [in_band(a, b, median) for a, b in itertools.pairwise(steady)]
    clean = [(i == len(paced) or paced[i]) and (i == 0 or paced[i - 1]) for i in range(len(steady))]
    if end + 1 < len(kept) and _catches_up(kept[end], kept[end + 1], median):
        clean[-1] = False  # the span ends before a catch-up jump: its last count is held back
    out: list[float] = []
    j = 0
    for i in range(len(steady)):
        while j < len(steady) and (steady[j][0] - steady[i][0] < window_s - 1e-9 or not clean[j]):
            j += 1
        if j >= len(steady):
            break
        if clean[i]:
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


def spread_pct(windows: Sequence[float]) -> float | None:
    """How far a figure's window rates disagree: p90 minus p10, in % of their median; None under 2 windows."""
    if len(windows) < 2:
        return None
    median = statistics.median(windows)
    if median <= 0:
        return None
    return 100.0 * (percentile(windows, 90) - percentile(windows, 10)) / median


def summarise(samples: Sequence[Sample]) -> tuple[float | None, float | None, int]:
    """(median Mbit/s, p90 Mbit/s, number of windows) of a transfer's steady windows.

    When the count never keeps pace after the ramp-up, the median is
    :func:`span_rate`'s lower bound instead.
    """
    windows = window_rates(samples)
    rate = span_rate(samples)
    if not windows or rate is None:
        return None, None, 0
    kept = _kept(samples)
    rates = interval_rates(kept)
    if _settled_start(kept, rates, steady_start(rates, [t for t, _ in kept])) is None:
        return rate, max(rate, percentile(windows, 90)), len(windows)
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
    overall = (b1 - b0) * 8 / span / 1e6
    if not windows:
        windows = [overall]
    median = statistics.median(windows)
    if median <= 0:
        # Counts that arrived in bursts (a busy client reads its socket late) leave
        # most windows empty; data did move, so the figure is the whole transfer's
        # rate, a lower bound, never 0 Mbit/s.
        return overall, max(overall, percentile(windows, 90)), len(windows)
    return median, percentile(windows, 90), len(windows)


def is_stable(samples: Sequence[Sample], tolerance_pct: float) -> bool:
    """True once the steady span is long enough, its end keeps pace, and its recent rate agrees.

    The span must last 2 s and hold 8 intervals; its last second of intervals
    must all be within 10 % of the steady median (no stall, no catch-up jump: the
    figure's end sample must not be held back); the medians of the last 2 s's
    two halves, and of the last 2 s against the whole span, must be within
    ``tolerance_pct`` of each other.
    """
    kept = _kept(samples)
    rates = interval_rates(kept)
    first = steady_start(rates, [t for t, _ in kept])
    settled = _settled_start(kept, rates, first) if first < len(rates) else None
    if settled is None:
        return False
    steady, rates = kept[settled:], rates[settled:]
    if len(rates) < STABLE_WINDOW or steady[-1][0] - steady[0][0] < MIN_STEADY_S - 1e-9:
        return False
    whole = statistics.median(rates)
    last = rates[-STABLE_WINDOW:]
    recent = statistics.median(last)
    if whole <= 0 or recent <= 0:
        return False
    k = len(steady) - 1
    while k > 0 and steady[-1][0] - steady[k][0] < SETTLED_S - 1e-9:
        k -= 1
    if not all(in_band(steady[i], steady[i + 1], whole) for i in range(k, len(steady) - 1)):
        return False
    half = STABLE_WINDOW // 2
    a, b = statistics.median(last[:half]), statistics.median(last[half:])
    tol = tolerance_pct / 100.0
    return abs(a - b) <= tol * recent and abs(recent - whole) <= tol * whole
