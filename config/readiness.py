"""Readiness: one pure function from (profile, samples) to rule outcomes and a level.

Both the collector (judging a school over its window) and the agent (judging
one fresh report on the spot) call :func:`evaluate`. Nothing here does I/O.
"""

from __future__ import annotations

import math
import operator
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from config.profile import Aggregate, Gate, Profile, Rule, Scope
from config.wire import Evidence, Level, RuleOutcome, RuleOutcomeStatus

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": lambda a, b: math.isclose(a, b),
}

# A sample timestamped a little ahead of the evaluator's clock still counts.
_CLOCK_SKEW = timedelta(minutes=10)


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


def effective_threshold(rule: Rule, facts: SchoolFacts) -> tuple[float, str | None]:
    """The rule's threshold after per-pupil scaling, and a note on how it was set."""
    if rule.scale_by is None or rule.scale_per_person is None:
        return rule.threshold, None
    people = facts.pupils
    if rule.scale_by == "pupils_and_staff" and people is not None:
        people += facts.staff or 0
    if people is None:
        return rule.threshold, "pupil count unknown: the fixed threshold applies"
    scaled = rule.scale_per_person * people
    if scaled > rule.threshold:
        return scaled, f"scaled: {rule.scale_per_person:g} × {people} people = {scaled:g}"
    return rule.threshold, None


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)  # statistics.median's own arithmetic, without its overhead
    half = len(ordered) // 2
    return float(ordered[half] if len(ordered) % 2 else (ordered[half - 1] + ordered[half]) / 2)


def _rank(q: float) -> Callable[[Sequence[float]], float]:
    def nearest_rank(values: Sequence[float]) -> float:
        ordered = sorted(values)
        return float(ordered[max(1, math.ceil(q * len(ordered))) - 1])

    return nearest_rank


# Each aggregate's reduction of a non-empty, time-ordered list of values (``share`` is handled apart).
AGGREGATES: dict[Aggregate, Callable[[Sequence[float]], float]] = {
    Aggregate.median: _median,
    Aggregate.mean: lambda values: float(statistics.fmean(values)),
    Aggregate.min: lambda values: float(min(values)),
    Aggregate.max: lambda values: float(max(values)),
    Aggregate.latest: lambda values: float(values[-1]),
    Aggregate.p10: _rank(0.10),
    Aggregate.p90: _rank(0.90),
}


def aggregate(kind: Aggregate, values: Sequence[float]) -> float:
    """Reduce a non-empty, time-ordered list of values (``share`` is handled apart)."""
    reduce = AGGREGATES.get(kind)
    if reduce is None:
        raise ValueError(f"aggregate {kind.value} needs the comparison")
    return reduce(values)


def _subject(rule: Rule, sample: Sample) -> str:
    if rule.scope is Scope.room:
        return sample.room
    if rule.scope is Scope.device:
        return sample.device
    return "school"


def _judge(rule: Rule, threshold: float, values: Sequence[float]) -> tuple[float, bool]:
    compare = _COMPARE[rule.comparison]
    if rule.aggregate is Aggregate.share:
        met = sum(1 for v in values if compare(v, threshold))
        share = 100.0 * met / len(values)
        assert rule.share_min_pct is not None
        return share, share >= rule.share_min_pct
    value = aggregate(rule.aggregate, values)
    return value, compare(value, threshold)


def _evidence(rule: Rule, subject: str, samples: list[Sample], threshold: float) -> Evidence:
    samples.sort(key=lambda s: s.taken_at)
    span = {"first_at": samples[0].taken_at, "last_at": samples[-1].taken_at}
    clean = [s for s in samples if s.limited_by is None]
    if len(clean) >= rule.min_samples:
        value, ok = _judge(rule, threshold, [s.value for s in clean])
        outcome = RuleOutcomeStatus.passed if ok else RuleOutcomeStatus.failed
        limited = len(samples) - len(clean)
        note = f"{limited} sample(s) limited by the client were set aside" if limited else None
        return Evidence(subject=subject, outcome=outcome, value=value, samples=len(clean),
                        threshold=threshold, note=note, **span)
    if len(samples) >= rule.min_samples:
        value, ok = _judge(rule, threshold, [s.value for s in samples])
        causes = sorted({s.limited_by for s in samples if s.limited_by})
        if ok:
            return Evidence(subject=subject, outcome=RuleOutcomeStatus.passed, value=value,
                            samples=len(samples), threshold=threshold,
                            note="met even though limited by " + ", ".join(causes), **span)
        return Evidence(subject=subject, outcome=RuleOutcomeStatus.no_data, value=value,
                        samples=len(samples), threshold=threshold,
                        note="short of the threshold, but every sample was limited by "
                        + ", ".join(causes) + ": not held against the school", **span)
    return Evidence(subject=subject, outcome=RuleOutcomeStatus.no_data, samples=len(samples),
                    threshold=threshold,
                    note=f"{len(samples)} sample(s), {rule.min_samples} needed", **span)


def evaluate_rule(rule: Rule, samples: Iterable[Sample], now: datetime,
                  facts: SchoolFacts = SchoolFacts()) -> RuleOutcome:
    """Judge one rule on the samples of its metric within its window."""
    since = now - timedelta(days=rule.window_days)
    until = now + _CLOCK_SKEW
    threshold, scale_note = effective_threshold(rule, facts)
    by_subject: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        if s.metric == rule.metric and since <= s.taken_at <= until and math.isfinite(s.value):
            by_subject[_subject(rule, s)].append(s)
    evidence = [_evidence(rule, subj, group, threshold) for subj, group in sorted(by_subject.items())]
    outcomes = {e.outcome for e in evidence}
    if RuleOutcomeStatus.failed in outcomes:
        outcome = RuleOutcomeStatus.failed
    elif RuleOutcomeStatus.passed in outcomes:
        outcome = RuleOutcomeStatus.passed
    else:
        outcome = RuleOutcomeStatus.no_data
    note = scale_note
    if not evidence:
        note = f"no {rule.metric} measurement in the last {rule.window_days} days" + (
            f"; {scale_note}" if scale_note else "")
    return RuleOutcome(
        rule_id=rule.id, title=rule.title, source=rule.source, proposed=rule.proposed,
        level=rule.level.value, scope=rule.scope.value, metric=rule.metric,
        comparison=rule.comparison, threshold=threshold, aggregate=rule.aggregate.value,
        window_days=rule.window_days, outcome=outcome, required=rule.required,
        evidence=evidence, note=note,
    )


def level_of(outcomes: Sequence[RuleOutcome]) -> Level:
    """A level from rule outcomes.

    Failing any floor or base rule means not ready. Otherwise a required floor
    or base rule without data means no data. Otherwise base, or target when
    every target rule is met.
    """
    gating = [o for o in outcomes if o.level in (Gate.floor.value, Gate.base.value)]
    if any(o.outcome is RuleOutcomeStatus.failed for o in gating):
        return Level.not_ready
    if all(o.outcome is RuleOutcomeStatus.no_data for o in outcomes):
        return Level.no_data
    if any(o.required and o.outcome is RuleOutcomeStatus.no_data for o in gating):
        return Level.no_data
    targets = [o for o in outcomes if o.level == Gate.target.value]
    if targets and all(o.outcome is RuleOutcomeStatus.passed for o in targets):
        return Level.target
    return Level.base


def evaluate(profile: Profile, samples: Iterable[Sample], now: datetime,
             facts: SchoolFacts = SchoolFacts()) -> Evaluation:
    """Judge every rule of ``profile`` on ``samples`` as of ``now``."""
    by_metric: dict[str, list[Sample]] = defaultdict(list)  # each rule reads only its metric
    for sample in samples:
        by_metric[sample.metric].append(sample)
    outcomes = [evaluate_rule(rule, by_metric.get(rule.metric, []), now, facts) for rule in profile.rules]
    return Evaluation(level=level_of(outcomes), outcomes=outcomes)
