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
