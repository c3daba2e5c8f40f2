"""How sure a loss figure is: its exact binomial interval, and whether it is narrow enough to judge.

A loss figure is ``lost`` of ``sent`` probes (ICMP echoes, HTTP round trips).
Its 95 % interval is Clopper-Pearson's (the "exact" interval: it never covers
less than 95 %, where Wald's and at small counts Wilson's can), found by
bisection on the binomial distribution, so no statistics library is needed.

The agent fills the interval in beside the figure; the rule layer
(:mod:`config.samples`) judges a loss figure only when the interval is at most
:data:`MAX_LOSS_INTERVAL_PCT` wide. Two points: the figure is then known to
about ±1 point, the size of the loss rule's own threshold (A12, 1 %). 100
echoes never get there (none lost: 0-3.6 %); 200 do when none is lost (0-1.8 %).
"""

from __future__ import annotations

import math
from collections.abc import Callable

LEVEL = 0.95
MAX_LOSS_INTERVAL_PCT = 2.0


def _cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), summed in log space (n up to a few thousand)."""
    if p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 1.0 if k >= n else 0.0
    lp, lq = math.log(p), math.log1p(-p)
    return min(1.0, sum(math.exp(math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1)
                                 + i * lp + (n - i) * lq) for i in range(k + 1)))


def _solve(f: Callable[[float], float], target: float) -> float:
    """The p in [0, 1] where the decreasing function ``f`` crosses ``target`` (bisection, 1e-9)."""
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if f(mid) > target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def binomial_interval(events: int, trials: int, level: float = LEVEL) -> tuple[float, float]:
    """Clopper-Pearson interval (as proportions) of ``events`` in ``trials``; ValueError on bad counts."""
    if trials <= 0 or not 0 <= events <= trials:
        raise ValueError(f"{events} events in {trials} trials")
    alpha = (1.0 - level) / 2
    # low: P(X >= events) = alpha, i.e. P(X <= events - 1) = 1 - alpha; high: P(X <= events) = alpha.
    low = 0.0 if events == 0 else _solve(lambda p: _cdf(events - 1, trials, p), 1.0 - alpha)
    high = 1.0 if events == trials else _solve(lambda p: _cdf(events, trials, p), alpha)
    return low, high


def loss_interval_pct(lost: int, sent: int) -> tuple[float, float]:
    """The 95 % interval of a loss of ``lost`` in ``sent``, in percent, rounded to 0.01 outward."""
    low, high = binomial_interval(lost, sent)
    return math.floor(low * 10_000) / 100, math.ceil(high * 10_000) / 100


def loss_is_sound(low_pct: float | None, high_pct: float | None) -> bool:
    """Whether a loss figure with this interval may be judged: known, and at most 2 points wide."""
    if low_pct is None or high_pct is None:
        return False
    return high_pct - low_pct <= MAX_LOSS_INTERVAL_PCT + 1e-9


def describe(lost: int, sent: int, low_pct: float, high_pct: float) -> str:
    """``"2 of 200 lost: 95 % interval 0.12-3.57 %"``: the figure's sample and its interval, for a reason."""
    return f"{lost} of {sent} lost: {LEVEL * 100:.0f} % interval {low_pct:.2f}-{high_pct:.2f} %"
