"""Readiness: one pure function from (profile, samples) to rule outcomes and a level.

Both the collector (judging a school over its window) and the agent (judging
one fresh report on the spot) call :func:`evaluate`. Nothing here does I/O.
It is the reference the collector's faster judges are tested against, and they
share its parts: the aggregates and comparisons (config/aggregates.py), a
subject's outcome (:func:`judge_subject`), a rule's outcome from its subjects'
(:func:`combine`) and the level from the rules' outcomes (:func:`level_of`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple, Protocol

from config.aggregates import figure, passes
from config.profile import Gate, Profile, Rule, Scope
from config.wire import Evidence, Level, RuleOutcome, RuleOutcomeStatus

# A sample timestamped a little ahead of the evaluator's clock still counts.
CLOCK_SKEW = timedelta(minutes=10)


@dataclass(frozen=True)
class Sample:
    """One measured value of one metric, with where and when it was taken.

    ``limited_by`` names what capped the figure on the measuring side (the
    agent's CPU, a Wi-Fi link weaker than the line): such a sample is shown but
    cannot by itself fail a rule.
    """

    metric: str
    value: float
    taken_at: datetime
    room: str = ""
    device: str = ""
    limited_by: str | None = None


@dataclass(frozen=True)
class SchoolFacts:
    """What the directory knows about a school that rules scale with."""

    pupils: int | None = None
    staff: int | None = None


@dataclass(frozen=True)
class Evaluation:
    """A school's (or a single report's) level and every rule's outcome."""

    level: Level
    outcomes: list[RuleOutcome] = field(default_factory=list)

    def failing(self) -> list[RuleOutcome]:
        """The rules not met."""
        return [o for o in self.outcomes if o.outcome is RuleOutcomeStatus.failed]


# Every note the judge writes, by key (the dashboard translates them from this table:
# collector/dashboard/rule_words.py).
NOTES = {
    "too_few": "{n} sample(s), {needed} needed",
    "limited_set_aside": "{n} sample(s) limited by the client were set aside",
    "met_though_limited": "met even though limited by {causes}",
    "short_but_limited": "short of the threshold, but every sample was limited by {causes}: "
                         "not held against the school",
    "no_measurement": "no {metric} measurement in the last {days} days",
    "no_measurement_in_hours": "no {metric} measurement in the hours {hours} ({timezone}) "
                               "in the last {days} days",
    "pupils_unknown": "pupil count unknown: the fixed threshold applies",
    "scaled": "scaled: {per:g} × {people} people = {scaled:g}",
}


def effective_threshold(rule: Rule, facts: SchoolFacts) -> tuple[float, str | None]:
    """The rule's threshold after per-pupil scaling, and a note on how it was set."""
    if rule.scale_by is None or rule.scale_per_person is None:
        return rule.threshold, None
    people = facts.pupils
    if rule.scale_by == "pupils_and_staff" and people is not None:
        people += facts.staff or 0
    if people is None:
        return rule.threshold, NOTES["pupils_unknown"]
    scaled = rule.scale_per_person * people
    if scaled > rule.threshold:
        return scaled, NOTES["scaled"].format(per=rule.scale_per_person, people=people, scaled=scaled)
    return rule.threshold, None


def _subject(rule: Rule, sample: Sample) -> str:
    if rule.scope is Scope.room:
        return sample.room
    if rule.scope is Scope.device:
        return sample.device
    return "school"


class SubjectOutcome(NamedTuple):
    """One subject's outcome for a rule, the figure it stands on and how many values that figure took."""

    outcome: RuleOutcomeStatus
    value: float | None
    samples: int


def judge_subject(rule: Rule, threshold: float, clean: Sequence[float],
                  every: Sequence[float]) -> SubjectOutcome:
    """A subject's outcome from its values in the window, in time order: ``clean`` those not limited
    by the client, ``every`` all of them.

    The clean values decide when there are enough of them. Otherwise, when the
    limited ones make enough, they can show the rule met but never failed: a
    figure capped by the measuring side is not held against the school.
    """
    if len(clean) >= rule.min_samples:
        value = figure(rule, clean, threshold)
        ok = passes(rule, value, threshold)
        return SubjectOutcome(RuleOutcomeStatus.passed if ok else RuleOutcomeStatus.failed, value, len(clean))
    if len(every) >= rule.min_samples:
        value = figure(rule, every, threshold)
        met = passes(rule, value, threshold)
        return SubjectOutcome(RuleOutcomeStatus.passed if met else RuleOutcomeStatus.no_data, value,
                              len(every))
    return SubjectOutcome(RuleOutcomeStatus.no_data, None, len(every))


def combine(outcomes: Iterable[str]) -> RuleOutcomeStatus:
    """A rule's outcome from its subjects': failed if one fails, else passed if one passes, else no data."""
    seen = set(outcomes)
    if RuleOutcomeStatus.failed in seen:
        return RuleOutcomeStatus.failed
    if RuleOutcomeStatus.passed in seen:
        return RuleOutcomeStatus.passed
    return RuleOutcomeStatus.no_data


def _evidence(rule: Rule, subject: str, samples: list[Sample], threshold: float) -> Evidence:
    samples.sort(key=lambda s: s.taken_at)
    span = {"first_at": samples[0].taken_at, "last_at": samples[-1].taken_at}
    clean = [s.value for s in samples if s.limited_by is None]
    judged = judge_subject(rule, threshold, clean, [s.value for s in samples])
    note = None
    if judged.value is None:
        note = NOTES["too_few"].format(n=len(samples), needed=rule.min_samples)
    elif len(clean) >= rule.min_samples:
        limited = len(samples) - len(clean)
        note = NOTES["limited_set_aside"].format(n=limited) if limited else None
    else:
        causes = ", ".join(sorted({s.limited_by for s in samples if s.limited_by}))
        met = judged.outcome is RuleOutcomeStatus.passed
        note = NOTES["met_though_limited" if met else "short_but_limited"].format(causes=causes)
    return Evidence(subject=subject, outcome=judged.outcome, value=judged.value, samples=judged.samples,
                    threshold=threshold, note=note, **span)


def evaluate_rule(rule: Rule, samples: Iterable[Sample], now: datetime,
                  facts: SchoolFacts = SchoolFacts()) -> RuleOutcome:
    """Judge one rule on the samples of its metric within its window."""
    since = now - timedelta(days=rule.window_days)
    until = now + CLOCK_SKEW
    threshold, scale_note = effective_threshold(rule, facts)
    during = rule.during
    by_subject: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        if s.metric == rule.metric and since <= s.taken_at <= until and math.isfinite(s.value) and (
                during is None or during.covers(s.taken_at)):
            by_subject[_subject(rule, s)].append(s)
    evidence = [_evidence(rule, subj, group, threshold) for subj, group in sorted(by_subject.items())]
    outcome = combine(e.outcome for e in evidence)
    note = scale_note
    if not evidence:
        which = "no_measurement_in_hours" if rule.hours else "no_measurement"
        note = NOTES[which].format(metric=rule.metric, days=rule.window_days, hours=rule.hours,
                                   timezone=rule.timezone) + (f"; {scale_note}" if scale_note else "")
    return RuleOutcome(
        rule_id=rule.id, title=rule.title, source=rule.source, proposed=rule.proposed,
        level=rule.level.value, scope=rule.scope.value, metric=rule.metric,
        comparison=rule.comparison, threshold=threshold, aggregate=rule.aggregate.value,
        window_days=rule.window_days, outcome=outcome, required=rule.required,
        evidence=evidence, note=note, share_min_pct=rule.share_min_pct, hours=rule.hours,
        timezone=rule.timezone if rule.hours else None,
    )


class Gated(Protocol):
    """What :func:`level_of` reads of a rule: the level it gates and whether it is required."""

    @property
    def level(self) -> Gate: ...

    @property
    def required(self) -> bool: ...


def level_of(rules: Sequence[Gated], outcomes: Sequence[str]) -> Level:
    """A level from each rule's outcome (in the rules' order).

    Failing any floor or base rule means not ready. Otherwise a required floor
    or base rule without data means no data (and so does no data at all).
    Otherwise base, or target when every target rule is met.
    """
    gating = [(r, o) for r, o in zip(rules, outcomes, strict=True) if r.level in (Gate.floor, Gate.base)]
    if any(o == RuleOutcomeStatus.failed for _, o in gating):
        return Level.not_ready
    if all(o == RuleOutcomeStatus.no_data for o in outcomes):
        return Level.no_data
    if any(r.required and o == RuleOutcomeStatus.no_data for r, o in gating):
        return Level.no_data
    targets = [o for r, o in zip(rules, outcomes, strict=True) if r.level is Gate.target]
    if targets and all(o == RuleOutcomeStatus.passed for o in targets):
        return Level.target
    return Level.base


def evaluate(profile: Profile, samples: Iterable[Sample], now: datetime,
             facts: SchoolFacts = SchoolFacts()) -> Evaluation:
    """Judge every rule of ``profile`` on ``samples`` as of ``now``."""
    by_metric: dict[str, list[Sample]] = defaultdict(list)  # each rule reads only its metric
    for sample in samples:
        by_metric[sample.metric].append(sample)
    outcomes = [evaluate_rule(rule, by_metric.get(rule.metric, []), now, facts) for rule in profile.rules]
    return Evaluation(level=level_of(profile.rules, [o.outcome for o in outcomes]), outcomes=outcomes)
