"""Measured against contracted: what a school gets of its internet contract.

The measured figure is the one the profile's rules judge the school on: the
school-wide download (upload) rule's figure over its window — the median of the
last 7 nights in the default profile — as :func:`config.readiness.evaluate_rule`
gives it in its evidence. When several rules read the same metric, the gating
one (floor, then base) is taken, as the school page's charts do. The school page
takes it from the evaluation it makes; the lists and exports from the school's
stored verdict, where the judges keep it (collector/judge/plan.py ``MEASURED``).
Nothing is aggregated here: a school whose rule has no figure (too few samples)
has no measured value, never 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from collector.db.models import SchoolContract
from collector.db.verdict_tables import SchoolVerdict
from collector.judge.plan import GATE_ORDER, MEASURED
from config.profile import Profile, Rule, Scope
from config.readiness import Evaluation
from config.wire import RuleOutcome

DOWNLOAD, UPLOAD = MEASURED
UNDER_CONTRACT = 0.8  # below 80 % of the contracted rate: the figure a district takes to its provider


@dataclass(frozen=True)
class Rate:
    """One direction: the contracted rate, the measured figure, and the rule and window it came from."""

    contracted_mbps: float
    measured_mbps: float | None
    rule_id: str | None
    window_days: int | None
    aggregate: str | None = None

    @property
    def share(self) -> float | None:
        """The measured figure as a fraction of the contracted rate (0.62 for 62 %), or None."""
        return None if self.measured_mbps is None else self.measured_mbps / self.contracted_mbps

    @property
    def under(self) -> bool:
        """Whether the measured figure is below :data:`UNDER_CONTRACT` of the contracted rate."""
        share = self.share
        return share is not None and share < UNDER_CONTRACT

    @property
    def pct(self) -> float | None:
        """The same in per cent."""
        share = self.share
        return None if share is None else 100 * share


@dataclass(frozen=True)
class ContractFigures:
    """A school's contract and what it gets of it."""

    provider: str
    technology: str
    source: str
    download: Rate
    upload: Rate

    @property
    def under(self) -> bool:
        """Whether either direction is measured below :data:`UNDER_CONTRACT` of its contracted rate."""
        return self.download.under or self.upload.under


def school_rules(profile: Profile, metric: str) -> list[Rule]:
    """The school-wide rules on ``metric``, the gating one first."""
    rules = [r for r in profile.rules if r.metric == metric and r.scope is Scope.school]
    return sorted(rules, key=lambda r: GATE_ORDER.get(r.level.value, 2))


def _measured(outcomes: list[RuleOutcome], contracted: float, metric: str) -> Rate:
    ordered = sorted((o for o in outcomes if o.metric == metric and o.scope == Scope.school.value),
                     key=lambda o: GATE_ORDER.get(o.level, 2))
    for o in ordered:
        figure = next((e.value for e in o.evidence if e.subject == "school"), None)
        if figure is not None:
            return Rate(contracted, figure, o.rule_id, o.window_days, o.aggregate)
    first = ordered[0] if ordered else None
    if first is None:
        return Rate(contracted, None, None, None)
    return Rate(contracted, None, first.rule_id, first.window_days, first.aggregate)


def against(contract: SchoolContract, outcomes: list[RuleOutcome]) -> ContractFigures:
    """A contract beside the rule outcomes a school was judged with."""
    return ContractFigures(provider=contract.provider, technology=contract.technology, source=contract.source,
                           download=_measured(outcomes, contract.download_mbps, DOWNLOAD),
                           upload=_measured(outcomes, contract.upload_mbps, UPLOAD))


def from_evaluation(contract: SchoolContract | None, evaluation: Evaluation) -> ContractFigures | None:
    """The school page's figures: from the evaluation it has already made."""
    return None if contract is None else against(contract, evaluation.outcomes)


_C: Table = SchoolContract.__table__  # type: ignore[assignment]
_V: Table = SchoolVerdict.__table__  # type: ignore[assignment]
_QUERY = (select(_C.c.school_uai, _C.c.provider, _C.c.technology, _C.c.source, _C.c.download_mbps,
                 _C.c.upload_mbps, _V.c.measured_download_mbps, _V.c.measured_download_rule,
                 _V.c.measured_upload_mbps, _V.c.measured_upload_rule)
          .join_from(_C, _V, _V.c.school_uai == _C.c.school_uai, isouter=True))
_MANY = 5000  # more schools asked for than this: one read of every contract


def _rate(contracted: float, figure: float | None, rule_id: str | None, rules: dict[str, Rule]) -> Rate:
    rule = rules.get(rule_id or "")
    if rule is None:  # no figure, or the rule that gave it is no longer in the profile
        return Rate(contracted, None, None, None)
    return Rate(contracted, figure, rule.id, rule.window_days, rule.aggregate.value)


def contract_figures(session: Session, profile: Profile, uais: list[str]) -> dict[str, ContractFigures]:
    """For each of ``uais`` that has a contract: its figures, from its stored verdict (the figures of the
    rules that gate first, kept by the judges: collector/judge/plan.py ``MEASURED``); a school whose
    verdict is out of date is judged again by the list before it comes here."""
    rules = {r.id: r for r in (*school_rules(profile, DOWNLOAD), *school_rules(profile, UPLOAD))}
    rows: list[Any] = []
    if len(uais) > _MANY:
        wanted = set(uais)
        rows = [r for r in session.execute(_QUERY) if r.school_uai in wanted]
    else:
        for i in range(0, len(uais), 500):
            rows += session.execute(_QUERY.where(_C.c.school_uai.in_(uais[i : i + 500]))).all()
    return {r.school_uai: ContractFigures(
                provider=r.provider, technology=r.technology, source=r.source,
                download=_rate(r.download_mbps, r.measured_download_mbps, r.measured_download_rule, rules),
                upload=_rate(r.upload_mbps, r.measured_upload_mbps, r.measured_upload_rule, rules))
            for r in rows}
