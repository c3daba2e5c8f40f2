"""Every aggregate and comparison a rule can name, each defined once, in two forms side by side.

The *plain* form reduces one subject's values (a non-empty list in time order):
:func:`config.readiness.evaluate` (the reference) and the collector's row and
column judges use it. The *stacked* form does the same for many subjects at
once, one per row of numpy arrays: the collector's batch judge uses it
(collector/judge/batch.py) to judge thousands of schools in a few array
operations. Both forms make the same IEEE operations in the same order (a
median is its two middle values halved and added, a mean ``math.fsum`` then divided
as ``statistics.fmean`` does, a share ``100.0 × met / count``, ``==`` is
``math.isclose``), so they give the very same figures; the tests run every
aggregate and every comparison through both.

A rule's test is then :func:`passes`: the aggregate against the threshold by
the rule's comparison, or, for ``share``, the share of values meeting the
comparison against ``share_min_pct``.

numpy is imported by the stacked forms only, when they run: the agent judges
one report with the plain forms and does not install it.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from config.profile import Aggregate, Rule

Meets = Callable[[float], bool]  # whether one value meets the rule's comparison (what ``share`` counts)


@dataclass
class Stack:
    """One metric's values for many subjects, one per row, within a rule's window.

    ``values``: float [rows, n] (NaN where there is none); ``inside``: bool [rows,
    n], the value is in the window and finite; ``count``: int [rows], how many are
    inside. :meth:`ordered` gives the values inside sorted, NaN last, made once and
    shared by the order statistics of one metric and window.
    """

    values: Any
    inside: Any
    count: Any
    _ordered: Any = field(default=None, repr=False)

    def ordered(self) -> Any:
        """The values inside, sorted per row, NaN last."""
        if self._ordered is None:
            import numpy as np

            self._ordered = np.sort(np.where(self.inside, self.values, np.nan), axis=1)
        return self._ordered


class Form(NamedTuple):
    """One aggregate: its plain form, ``(values, meets) -> float``, and its stacked form,
    ``(stack, meets on arrays) -> float array`` (NaN, or anything, where a row has no value inside)."""

    plain: Callable[[Sequence[float], Meets], float]
    stacked: Callable[[Stack, Callable[[Any], Any]], Any]
    is_share: bool = False  # its figure is a percentage, tested against the rule's share_min_pct


class ComparisonForm(NamedTuple):
    """One comparison of a figure with a threshold: plain, and on arrays (element by element)."""

    plain: Callable[[float, float], bool]
    stacked: Callable[[Any, Any], Any]


# --- plain forms -------------------------------------------------------------------------------

def _median(values: Sequence[float], _meets: Meets) -> float:
    ordered = sorted(values)
    half = len(ordered) // 2
    # halves added, not the sum halved: the same figure (halving is exact), and no overflow
    return float(ordered[half] if len(ordered) % 2 else ordered[half - 1] / 2 + ordered[half] / 2)


def _mean(values: Sequence[float], _meets: Meets) -> float:
    return mean_of(values, len(values))


def mean_of(values: Any, count: int) -> float:
    """``statistics.fmean``'s figure (an exact sum, then divided), or, where that sum would overflow,
    the sum of each value divided first."""
    try:
        return math.fsum(values) / count
    except OverflowError:
        return math.fsum(v / count for v in values)


def _rank(q: float) -> Callable[[Sequence[float], Meets], float]:
    def nearest_rank(values: Sequence[float], _meets: Meets) -> float:
        ordered = sorted(values)
        return float(ordered[max(1, math.ceil(q * len(ordered))) - 1])

    return nearest_rank


def _share(values: Sequence[float], meets: Meets) -> float:
    return 100.0 * sum(1 for v in values if meets(v)) / len(values)


# --- stacked forms -----------------------------------------------------------------------------

def _take(a: Any, idx: Any) -> Any:
    import numpy as np

    return np.take_along_axis(a, idx[:, None], axis=1)[:, 0]


def _top(stack: Stack) -> Any:
    import numpy as np

    return np.maximum(stack.count - 1, 0)


def _median_stacked(stack: Stack, _meets: Callable[[Any], Any]) -> Any:
    import numpy as np

    ordered, count = stack.ordered(), stack.count
    half = np.minimum(count // 2, _top(stack))
    upper, lower = _take(ordered, half), _take(ordered, np.maximum(half - 1, 0))
    return np.where(count % 2 == 1, upper, lower / 2 + upper / 2)


def _mean_stacked(stack: Stack, _meets: Callable[[Any], Any]) -> Any:
    import numpy as np

    return np.array([mean_of(c[i].tolist(), n) if n else math.nan
                     for c, i, n in zip(stack.values, stack.inside, stack.count.tolist(), strict=True)])


def _latest_stacked(stack: Stack, _meets: Callable[[Any], Any]) -> Any:
    import numpy as np

    inside = stack.inside
    last = inside.shape[1] - 1 - np.argmax(inside[:, ::-1], axis=1)  # the last inside, in time order
    return _take(stack.values, last)


def _rank_stacked(q: float) -> Callable[[Stack, Callable[[Any], Any]], Any]:
    def nearest_rank(stack: Stack, _meets: Callable[[Any], Any]) -> Any:
        import numpy as np

        rank = np.maximum(1, np.ceil(q * stack.count)).astype(np.int64) - 1
        return _take(stack.ordered(), np.minimum(rank, _top(stack)))

    return nearest_rank


def _share_stacked(stack: Stack, meets: Callable[[Any], Any]) -> Any:
    import numpy as np

    with np.errstate(invalid="ignore", divide="ignore"):
        return 100.0 * (stack.inside & meets(stack.values)).sum(axis=1) / stack.count


def _isclose_stacked(a: Any, b: Any) -> Any:
    """``math.isclose`` with its default tolerance, element by element."""
    import numpy as np

    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(b - a)
        near = (diff <= np.abs(1e-09 * b)) | (diff <= np.abs(1e-09 * a))
        return (a == b) | (np.isfinite(a) & np.isfinite(b) & near)


# --- the tables --------------------------------------------------------------------------------

AGGREGATES: dict[Aggregate, Form] = {
    Aggregate.median: Form(_median, _median_stacked),
    Aggregate.mean: Form(_mean, _mean_stacked),
    Aggregate.min: Form(lambda values, _m: float(min(values)), lambda stack, _m: stack.ordered()[:, 0]),
    Aggregate.max: Form(lambda values, _m: float(max(values)),
                        lambda stack, _m: _take(stack.ordered(), _top(stack))),
    Aggregate.latest: Form(lambda values, _m: float(values[-1]), _latest_stacked),
    Aggregate.p10: Form(_rank(0.10), _rank_stacked(0.10)),
    Aggregate.p90: Form(_rank(0.90), _rank_stacked(0.90)),
    Aggregate.share: Form(_share, _share_stacked, is_share=True),  # % of values meeting the comparison
}

# The operators of ``<``, ``<=``, ``>``, ``>=`` work on numpy arrays as they are.
COMPARISONS: dict[str, ComparisonForm] = {
    ">=": ComparisonForm(operator.ge, operator.ge),
    ">": ComparisonForm(operator.gt, operator.gt),
    "<=": ComparisonForm(operator.le, operator.le),
    "<": ComparisonForm(operator.lt, operator.lt),
    "==": ComparisonForm(lambda a, b: math.isclose(a, b), _isclose_stacked),
}


# --- a rule's test -----------------------------------------------------------------------------

def figure(rule: Rule, values: Sequence[float], threshold: float) -> float:
    """The rule's aggregate of one subject's values (time order, not empty)."""
    compare = COMPARISONS[rule.comparison].plain
    return AGGREGATES[rule.aggregate].plain(values, lambda v: compare(v, threshold))


def passes(rule: Rule, value: float, threshold: float) -> bool:
    """Whether the rule's figure meets the rule."""
    if AGGREGATES[rule.aggregate].is_share:
        assert rule.share_min_pct is not None  # the profile's validation makes it so
        return value >= rule.share_min_pct
    return COMPARISONS[rule.comparison].plain(value, threshold)


def figure_stacked(rule: Rule, stack: Stack, limit: Any) -> Any:
    """:func:`figure` for every row of ``stack`` (``limit``: one threshold, or one per row)."""
    import numpy as np

    compare = COMPARISONS[rule.comparison].stacked
    per_value = limit if np.ndim(limit) == 0 else limit[:, None]
    return AGGREGATES[rule.aggregate].stacked(stack, lambda values: compare(values, per_value))


def passes_stacked(rule: Rule, figures: Any, limit: Any) -> Any:
    """:func:`passes` for every row (``limit``: one threshold, or one per row)."""
    import numpy as np

    with np.errstate(invalid="ignore"):
        if AGGREGATES[rule.aggregate].is_share:
            assert rule.share_min_pct is not None
            return figures >= rule.share_min_pct
        return COMPARISONS[rule.comparison].stacked(figures, limit)
