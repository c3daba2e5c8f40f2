"""One check: run the enabled probes, assemble a report, judge it on the spot."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from agent import __version__
from agent.progress import Progress
from agent.runner import run_probes
from agent.state import AgentState
from config.agent_settings import AgentSettings
from config.profile import Gate, Profile
from config.readiness import Evaluation, evaluate
from config.samples import samples_from_report
from config.wire import ProbeResult, Report, RuleOutcomeStatus
from probes import registry
from probes.base import ProbeContext, ProbeSpec


def enabled_specs(settings: AgentSettings) -> list[ProbeSpec]:
    """The probes the settings enable, in the order given; an unknown name is a config error."""
    return [registry.get(name) for name in settings.probes.enabled]


def build_report(state: AgentState, uai: str, room: str, results: Sequence[ProbeResult],
                 ctx: ProbeContext) -> Report:
    """A report with a fresh id, ready to keep and send."""
    return Report(report_id=uuid.uuid4(), agent_version=__version__, device=state.identity(),
                  school_uai=uai, room=room, taken_at=ctx.clock(), results=list(results))


def judge(profile: Profile, report: Report) -> Evaluation:
    """This report alone against the profile (device, room and the school's link as seen now)."""
    return evaluate(profile, samples_from_report(report), report.taken_at)


def meets_profile(ev: Evaluation) -> bool:
    """True unless a floor or base rule fails; rules without data do not fail a check."""
    gating = (Gate.floor.value, Gate.base.value)
    return not any(o.outcome is RuleOutcomeStatus.failed and o.level in gating for o in ev.outcomes)


@dataclass
class CheckResult:
    """A check's report and its verdict."""

    report: Report
    evaluation: Evaluation
    passed: bool


def run_check(state: AgentState, settings: AgentSettings, ctx: ProbeContext, profile: Profile,
              uai: str, room: str, progress: Progress | None = None) -> CheckResult:
    """Run every enabled probe and judge the result (a live line per long probe with ``progress``)."""
    results = run_probes(enabled_specs(settings), ctx, settings.probes.timeout_s, progress)
    report = build_report(state, uai, room, results, ctx)
    ev = judge(profile, report)
    return CheckResult(report, ev, meets_profile(ev))
