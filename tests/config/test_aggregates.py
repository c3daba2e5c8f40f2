"""Every aggregate and comparison: its plain and its stacked form give the very same figures and tests.

The judges of config/readiness.py and collector/judge/ take their aggregates
and comparisons from the one table of config/aggregates.py; this file makes sure
the table has both forms of every one of them and that the two forms agree, so
an aggregate cannot be added to one judge only.
"""

from __future__ import annotations

import math
from typing import get_args

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.aggregates import (
    AGGREGATES,
    COMPARISONS,
    Stack,
    figure,
    figure_stacked,
    passes,
    passes_stacked,
)
from config.profile import Aggregate, Comparison, Rule

VALUES = st.one_of(st.sampled_from([8.0, 20.0, 0.0, -1.5, 7.999999999, 8.000000001]),
                   st.floats(-1e6, 1e6, allow_nan=False))


def _rule(agg: Aggregate, cmp: str) -> Rule:
    return Rule(id="r", title="r", metric="bandwidth.download_mbps", comparison=cmp, threshold=8.0,
                scope="school", aggregate=agg, window_days=7, level="base", source="X",
                share_min_pct=50.0 if agg is Aggregate.share else None)


def test_the_table_has_every_aggregate_and_comparison_in_both_forms() -> None:
    assert set(AGGREGATES) == set(Aggregate)
    assert set(COMPARISONS) == set(get_args(Comparison))
    for form in AGGREGATES.values():
        assert callable(form.plain) and callable(form.stacked)
    for comparison in COMPARISONS.values():
        assert callable(comparison.plain) and callable(comparison.stacked)


@pytest.mark.parametrize("agg", list(Aggregate))
@pytest.mark.parametrize("cmp", list(get_args(Comparison)))
@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(rows=st.lists(st.lists(st.tuples(VALUES, st.booleans()), min_size=1, max_size=9), min_size=1,
                     max_size=6),
       threshold=st.sampled_from([8.0, -1.5, 1e5]))
def test_stacked_forms_equal_the_plain_ones(agg: Aggregate, cmp: str, rows: list[list[tuple[float, bool]]],
                                            threshold: float) -> None:
    """Rows of values, some outside the window: each row's stacked figure and test are the plain ones of
    the values inside (a row with none inside is not compared: the judges give no data there)."""
    rule = _rule(agg, cmp)
    width = max(len(r) for r in rows)
    values = np.full((len(rows), width), np.nan)
    inside = np.zeros((len(rows), width), dtype=bool)
    for i, row in enumerate(rows):
        for j, (v, keep) in enumerate(row):
            values[i, j], inside[i, j] = v, keep
    stack = Stack(values, inside, inside.sum(axis=1))
    figures = figure_stacked(rule, stack, threshold)
    tests = passes_stacked(rule, figures, threshold)
    per_row = figure_stacked(rule, stack, np.full(len(rows), threshold))  # a threshold per school
    for i, row in enumerate(rows):
        kept = [v for v, keep in row if keep]
        if not kept:
            continue
        plain = figure(rule, kept, threshold)
        assert figures[i] == plain or (math.isnan(plain) and math.isnan(figures[i])), (kept, figures[i])
        assert per_row[i] == figures[i]
        assert bool(tests[i]) == passes(rule, plain, threshold)


@pytest.mark.parametrize(("a", "b"), [(8.0, 8.0), (8.0, 8.000000001), (8.0, 8.1), (0.0, 1e-300),
                                      (1e308, 1e308), (-0.0, 0.0)])
def test_isclose_on_arrays_is_math_isclose(a: float, b: float) -> None:
    got = COMPARISONS["=="].stacked(np.array([a]), np.array([b]))
    assert bool(got[0]) == math.isclose(a, b)


# --- a rule's hours: the plain, microsecond and array forms (config/hours.py) ------------------------------

HOURS = ("mon,tue,thu,fri 08:30-16:30", "sun 01:30-03:30; wed 12:00-24:00; fri 09:00-10:00")
# around the change to winter time (25 October 2026, 01:00 UTC) and a Wednesday's midnight in Paris
AROUND = (1_792_890_000_000_000, 1_793_228_400_000_000)


@pytest.mark.parametrize("text", HOURS)
@pytest.mark.parametrize("zone", ["Europe/Paris", "America/Cayenne", "Pacific/Chatham"])
@settings(max_examples=80, deadline=None, derandomize=True, database=None)
@given(times=st.lists(st.one_of(st.integers(AROUND[0] - 4 * 86_400_000_000, AROUND[0] + 4 * 86_400_000_000),
                                st.sampled_from(AROUND).flatmap(
                                    lambda t: st.integers(t - 7_200_000_000, t + 7_200_000_000))),
                      min_size=1, max_size=40))
def test_the_three_forms_of_a_rules_hours_agree(text: str, zone: str, times: list[int]) -> None:
    """Whether a moment is in the hours: the datetime form (evaluate), the microsecond form (row and
    column judges) and the array form (batch judge) answer alike, across an offset change, at 24:00 and
    in a zone whose offset is not whole hours."""
    from datetime import UTC, datetime, timedelta

    from config.hours import parse_hours

    hours = parse_hours(text, zone)
    plain = [hours.covers(datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=t)) for t in times]
    assert [hours.covers_us(t) for t in times] == plain
    arr = np.array([*times, np.iinfo(np.int64).max], dtype=np.int64)  # the batch judge's padding too
    valid = arr != np.iinfo(np.int64).max
    assert hours.covers_stacked(arr, valid).tolist() == [*plain, False]


def test_a_rules_hours_are_local_time() -> None:
    """08:30-16:30 in Paris is 07:30-15:30 UTC in winter, 06:30-14:30 in summer; Wednesday does not count."""
    from datetime import UTC, datetime

    rule = Rule(id="u", title="u", metric="latency.internet_reachable", comparison="==", threshold=1,
                scope="school", aggregate="share", share_min_pct=99, window_days=30, level="target",
                source="A13", hours="mon,tue,thu,fri 08:30-16:30")
    hours = rule.during
    assert hours is not None
    assert hours.covers(datetime(2026, 11, 20, 7, 30, tzinfo=UTC))  # Friday 08:30 in Paris
    assert not hours.covers(datetime(2026, 11, 20, 7, 29, 59, tzinfo=UTC))
    assert not hours.covers(datetime(2026, 11, 20, 15, 30, tzinfo=UTC))  # 16:30: the end is out
    assert hours.covers(datetime(2026, 6, 19, 14, 29, tzinfo=UTC))  # summer Friday 16:29
    assert not hours.covers(datetime(2026, 11, 18, 9, 0, tzinfo=UTC))  # a Wednesday
    with pytest.raises(ValueError, match="hours: '9' is not a span"):
        Rule(**{**rule.model_dump(), "hours": "sat 9"})
    with pytest.raises(ValueError, match="unknown time zone"):
        Rule(**{**rule.model_dump(), "timezone": "Mars/Olympus"})
