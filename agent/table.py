"""The readable table ``socle-agent check`` prints."""

from __future__ import annotations

from config.readiness import Evaluation
from config.wire import Level, ProbeStatus, Report, RuleOutcomeStatus

_MARK = {RuleOutcomeStatus.passed: "pass", RuleOutcomeStatus.failed: "FAIL",
         RuleOutcomeStatus.no_data: "no data"}


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def render_check(report: Report, ev: Evaluation, passed: bool) -> str:
    """Probe by probe: what was measured, which rule reads it, and the outcome."""
    rows: list[tuple[str, str, str, str]] = []
    by_probe: dict[str, list[tuple[str, str, str]]] = {}
    for o in ev.outcomes:
        value = o.evidence[0].value if o.evidence else None
        rule = f"{o.rule_id} ({o.source}): {o.comparison} {o.threshold:g}"
        field = o.metric.split(".", 1)[1]
        by_probe.setdefault(o.metric.split(".", 1)[0], []).append(
            (f"{field} = {_fmt(value)}", rule, _MARK[o.outcome]))
    for result in report.results:
        status = result.status.value
        judged = by_probe.pop(result.probe, [])
        if result.status in (ProbeStatus.unavailable, ProbeStatus.error) or not judged:
            rows.append((result.probe, f"{status}: {result.reason}" if result.reason else status, "", ""))
        for measured, rule, outcome in judged:
            rows.append((result.probe, measured, rule, outcome))
    for probe, judged in by_probe.items():
        for _measured, rule, _ in judged:
            rows.append((probe, "not measured by this agent", rule, "no data"))
    header = ("probe", "measured", "rule", "result")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [line.format(*header), line.format(*("-" * w for w in widths))]
    out += [line.format(*r).rstrip() for r in rows]
    verdict = verdict_text(ev, passed)
    out += ["", f"School {report.school_uai}, room {report.room}: {verdict}"]
    return "\n".join(out)


LEVEL_WORDS = {Level.not_ready: "not ready", Level.no_data: "no data", Level.base: "base",
               Level.target: "target"}


def verdict_text(ev: Evaluation, passed: bool) -> str:
    """PASS or FAIL, with the level the collector gives the same report (config/readiness.level_of)."""
    if not passed:
        return f"FAIL — level {LEVEL_WORDS[ev.level]}: " + ", ".join(o.rule_id for o in ev.failing())
    return f"PASS — level {LEVEL_WORDS[ev.level]}: this device and room meet the profile"
