"""The readable table ``socle-agent check`` prints."""

from __future__ import annotations

from config.readiness import Evaluation
from config.samples import unjudged
from config.wire import Measurement, ProbeStatus, Report, RuleOutcomeStatus

_MARK = {RuleOutcomeStatus.passed: "pass", RuleOutcomeStatus.failed: "FAIL",
         RuleOutcomeStatus.no_data: "no data"}


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _not_judged(m: Measurement | None, field: str) -> str | None:
    """``"loss_pct = 2 not judged (why)"`` for a figure the rules leave out (config.samples.unjudged)."""
    if m is None:
        return None
    fields = m.__dict__
    value = fields.get(field)
    if not isinstance(value, int | float) or field not in unjudged(fields):
        return None
    why = m.doubtful.get(field) or "no interval narrow enough to judge a loss by"
    return f"{field} = {_fmt(float(value))} not judged ({why})"


def render_check(report: Report, ev: Evaluation, passed: bool) -> str:
    """Probe by probe: what was measured, which rule reads it, and the outcome.

    A figure measured but not vouched for by its probe says so and why, where
    its rule shows no data.
    """
    rows: list[tuple[str, str, str, str]] = []
    by_probe: dict[str, list[tuple[str, str, str, str]]] = {}
    for o in ev.outcomes:
        value = o.evidence[0].value if o.evidence else None
        rule = f"{o.rule_id} ({o.source}): {o.comparison} {o.threshold:g}"
        field = o.metric.split(".", 1)[1]
        by_probe.setdefault(o.metric.split(".", 1)[0], []).append(
            (field, f"{field} = {_fmt(value)}", rule, _MARK[o.outcome]))
    for result in report.results:
        status = result.status.value
        judged = by_probe.pop(result.probe, [])
        if result.status in (ProbeStatus.unavailable, ProbeStatus.error) or not judged:
            rows.append((result.probe, f"{status}: {result.reason}" if result.reason else status, "", ""))
        for field, measured, rule, outcome in judged:
            rows.append((result.probe, _not_judged(result.measurement, field) or measured, rule, outcome))
    for probe, judged in by_probe.items():
        for _field, _measured, rule, _ in judged:
            rows.append((probe, "not measured by this agent", rule, "no data"))
    header = ("probe", "measured", "rule", "result")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [line.format(*header), line.format(*("-" * w for w in widths))]
    out += [line.format(*r).rstrip() for r in rows]
    verdict = "PASS — this device and room meet the profile" if passed else \
        "FAIL — " + ", ".join(o.rule_id for o in ev.failing())
    out += ["", f"School {report.school_uai}, room {report.room}: {verdict}"]
    return "\n".join(out)
