"""A profile made ready for judging many schools at one moment, and the verdict a judge gives.

:func:`config.readiness.evaluate` is the definition of a school's verdict; it
builds an :class:`~config.wire.Evidence` model per subject, which the school page
needs and the overview of 50,000 schools does not. The collector's judges give
the same level and outcomes without evidence, from plain rows
(collector/judge/rows.py), from columns of stored sets (collector/judge/columns.py)
or from many schools' columns at once (collector/judge/batch.py). They share
this plan, evaluate()'s parts (config/readiness.py: a subject's outcome, a rule's
outcome, the level) and its aggregates and comparisons (config/aggregates.py);
the tests run them all against evaluate() on random data.

A verdict also says until when it holds (``valid_until``): the moment the oldest
sample used leaves its window, or a sample dated ahead enters it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from collector.db.sample_sets import SURVEY_LEAD
from config.hours import TeachingHours
from config.profile import Profile, Rule, Scope
from config.readiness import CLOCK_SKEW, level_of
from config.wire import RuleOutcomeStatus

PASSED, FAILED, NO_DATA = (RuleOutcomeStatus.passed.value, RuleOutcomeStatus.failed.value,
                           RuleOutcomeStatus.no_data.value)
SUBJECT = {Scope.school: -1, Scope.room: 2, Scope.device: 3}  # index in a row (rows.py); -1: the school
TICK = timedelta(microseconds=1)
SKEW_US = CLOCK_SKEW // TICK
# The figures a verdict keeps beside its outcomes: what the lists and exports set against a school's
# internet contract (collector/dashboard/contract.py), per metric the figure of the school-wide rule
# that gates first (floor, then base, then the others, in profile order) and has one.
MEASURED = ("bandwidth.download_mbps", "bandwidth.upload_mbps")
GATE_ORDER = {"floor": 0, "base": 1}  # which of several rules on one metric speaks first

Measured = tuple[tuple[int, float] | None, ...]  # per MEASURED metric: (rule index, figure), or None


class Verdict(NamedTuple):
    """A school's level, its rules' outcomes (in profile order) and until when they hold.

    A tuple: a full re-evaluation sends tens of thousands between processes.
    """

    level: str
    outcomes: tuple[str, ...]
    valid_until: datetime | None
    measured: Measured = ()  # see MEASURED: empty when the plan keeps none

    def failing(self, plan: Plan) -> list[str]:
        """The ids of the rules not met."""
        return [rid for rid, o in zip(plan.ids, self.outcomes, strict=True) if o == FAILED]


class Spec(NamedTuple):
    """A rule as the column and batch judges read it."""

    rule: Rule
    metric: int  # index in Plan.metrics
    subject: int  # SUBJECT[rule.scope]
    since: Any  # the window, encoded like the sets' times
    until: Any
    window_us: int
    threshold: float | None  # None: scaled per school
    min_samples: int
    during: TeachingHours | None = None  # only samples in these hours count (config/hours.py)


@dataclass(frozen=True)
class Plan:
    """A profile made ready for judging many schools at ``now``."""

    rules: tuple[Rule, ...]
    ids: tuple[str, ...]
    now: datetime
    bounds: tuple[tuple[Any, Any], ...]  # per rule: (since, until) encoded like the rows' taken_at
    windows: dict[str, timedelta]  # metric -> the longest window of the rules reading it
    profile_hash: str
    metrics: tuple[str, ...] = ()  # the metrics the rules read, each once, in order
    specs: tuple[Spec, ...] = ()  # per rule, what the column judges need at hand
    horizon: Any = None  # from when a set may hold a sample in a window (longest, less SURVEY_LEAD)
    levels: dict[tuple[str, ...], str] = field(default_factory=dict, compare=False)  # outcomes -> level
    gates: tuple[tuple[int, ...], ...] = ()  # per MEASURED metric: its school-wide rules' indexes, gate order
    kept: frozenset[int] = frozenset()  # the rules whose figure the judges hand to :meth:`measured`

    def measured(self, figures: dict[int, float | None]) -> Measured:
        """Per :data:`MEASURED` metric, the first of its gating rules with a figure, from the kept rules'
        figures (rule index -> figure, None: too few values)."""
        out: list[tuple[int, float] | None] = []
        for gate in self.gates:
            found = next(((r, v) for r in gate if (v := figures.get(r)) is not None and v == v), None)
            out.append(found)
        return tuple(out)

    def level(self, outcomes: tuple[str, ...]) -> str:
        """The level of these outcomes (many schools share theirs: each is worked out once)."""
        level = self.levels.get(outcomes)
        if level is None:
            level = level_of(self.rules, outcomes).value
            if len(self.levels) < 10_000:
                self.levels[outcomes] = level
        return level


def profile_hash(profile: Profile) -> str:
    """A digest of the profile's content: a stored verdict made under another profile is stale."""
    return hashlib.sha256(profile.model_dump_json().encode()).hexdigest()


def make_plan(profile: Profile, now: datetime, encode: Callable[[datetime], Any] = lambda d: d) -> Plan:
    """The plan to judge schools with ``profile`` at ``now`` (``encode``: datetime -> the rows' form)."""
    windows: dict[str, timedelta] = {}
    bounds = []
    for rule in profile.rules:
        window = timedelta(days=rule.window_days)
        windows[rule.metric] = max(window, windows.get(rule.metric, window))
        bounds.append((encode(now - window), encode(now + CLOCK_SKEW)))
    metrics = tuple(dict.fromkeys(r.metric for r in profile.rules))
    specs = tuple(Spec(rule, metrics.index(rule.metric), SUBJECT[rule.scope], since, until,
                       rule.window_days * (timedelta(days=1) // TICK),
                       None if rule.scale_by else rule.threshold, rule.min_samples, rule.during)
                  for rule, (since, until) in zip(profile.rules, bounds, strict=True))
    gates = tuple(tuple(sorted((i for i, r in enumerate(profile.rules)
                                if r.metric == metric and r.scope is Scope.school),
                               key=lambda i: GATE_ORDER.get(profile.rules[i].level.value, 2)))
                  for metric in MEASURED)
    return Plan(rules=tuple(profile.rules), ids=tuple(r.id for r in profile.rules), now=now,
                bounds=tuple(bounds), windows=windows, profile_hash=profile_hash(profile),
                metrics=metrics, specs=specs, gates=gates, kept=frozenset(i for g in gates for i in g),
                horizon=encode(now - max(windows.values(), default=timedelta(0)) - SURVEY_LEAD))
