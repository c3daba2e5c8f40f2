"""Measured against contracted: what a school gets of its internet contract.

The measured figure is the one the profile's rules judge the school on: the
school-wide download (upload) rule's figure over its window — the median of the
last 7 nights in the default profile — as :func:`config.readiness.evaluate_rule`
gives it in its evidence. When several rules read the same metric, the gating
one (floor, then base) is taken, as the school page's charts do. Nothing is
aggregated here: a school whose rule has no figure (too few samples) has no
measured value, never 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.db.models import School, SchoolContract
from collector.db.sample_sets import school_samples
from collector.schools.contracts import contracts_of
from config.profile import Profile, Rule, Scope
from config.readiness import Evaluation, SchoolFacts, evaluate_rule
from config.wire import RuleOutcome

DOWNLOAD, UPLOAD = "bandwidth.download_mbps", "bandwidth.upload_mbps"
UNDER_CONTRACT = 0.8  # below 80 % of the contracted rate: the figure a district takes to its provider
_GATE_ORDER = {"floor": 0, "base": 1}


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
    return sorted(rules, key=lambda r: _GATE_ORDER.get(r.level.value, 2))


def _measured(outcomes: list[RuleOutcome], contracted: float, metric: str) -> Rate:
    ordered = sorted((o for o in outcomes if o.metric == metric and o.scope == Scope.school.value),
                     key=lambda o: _GATE_ORDER.get(o.level, 2))
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


def contract_figures(session: Session, profile: Profile, now: datetime,
                     uais: list[str]) -> dict[str, ContractFigures]:
    """For each of ``uais`` that has a contract: its figures, judged by the profile's download and upload
    rules only (config.readiness.evaluate_rule, on those rules' metrics only)."""
    contracts = contracts_of(session, uais)
    rules = [*school_rules(profile, DOWNLOAD), *school_rules(profile, UPLOAD)]
    if not contracts or not rules:
        return {uai: against(c, []) for uai, c in contracts.items()}
    since = now - timedelta(days=max(r.window_days for r in rules))
    wanted = list(contracts)
    facts = {uai: SchoolFacts(pupils=p, staff=s) for i in range(0, len(wanted), 500)
             for uai, p, s in session.execute(select(School.uai, School.pupils, School.staff)
                                              .where(School.uai.in_(wanted[i : i + 500])))}
    conn = session.connection()
    out = {}
    for uai, contract in contracts.items():
        samples = school_samples(conn, uai, since, (DOWNLOAD, UPLOAD))
        judged = [evaluate_rule(r, samples, now, facts.get(uai, SchoolFacts())) for r in rules]
        out[uai] = against(contract, judged)
    return out
