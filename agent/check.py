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
from config.profile import Profile
from config.readiness import Evaluation, SchoolFacts, evaluate
from config.samples import samples_from_report
from config.wire import Level, ProbeResult, Report
from probes import registry
from probes.base import ProbeContext, ProbeSpec

NO_FACTS = SchoolFacts()  # pupils and staff unknown: per-pupil rules use their fixed thresholds


def enabled_specs(settings: AgentSettings) -> list[ProbeSpec]:
    """The probes the settings enable, in the order given; an unknown name is a config error."""
    return [registry.get(name) for name in settings.probes.enabled]


def build_report(state: AgentState, uai: str, room: str, results: Sequence[ProbeResult],
                 ctx: ProbeContext) -> Report:
    """A report with a fresh id, ready to keep and send."""
    return Report(report_id=uuid.uuid4(), agent_version=__version__, device=state.identity(),
                  school_uai=uai, room=room, taken_at=ctx.clock(), results=list(results))


def judge(profile: Profile, report: Report, facts: SchoolFacts = NO_FACTS) -> Evaluation:
    """This report alone against the profile (device, room and the school's link as seen now), with the
    school's facts (pupils, staff) that per-pupil rules scale with: the collector's own evaluation."""
    return evaluate(profile, samples_from_report(report), report.taken_at, facts)


def meets_profile(ev: Evaluation) -> bool:
    """True unless the level is not ready (a floor or base rule fails), as the collector's level says;
    rules without data do not fail a check."""
    return ev.level is not Level.not_ready


@dataclass
class CheckResult:
    """A check's report and its verdict."""

    report: Report
    evaluation: Evaluation
    passed: bool


def run_check(state: AgentState, settings: AgentSettings, ctx: ProbeContext, profile: Profile,
              uai: str, room: str, progress: Progress | None = None,
              facts: SchoolFacts = NO_FACTS) -> CheckResult:
    """Run every enabled probe (a live line per long probe with ``progress``) and judge the result
    with the school's facts."""
    results = run_probes(enabled_specs(settings), ctx, settings.probes.timeout_s, progress)
    report = build_report(state, uai, room, results, ctx)
    ev = judge(profile, report, facts)
    return CheckResult(report, ev, meets_profile(ev))
