"""The readable table ``socle-agent check`` prints: at most :data:`WIDTH` columns, in the
technician's language (agent/i18n.py), yes/no for yes-or-no values, and under a failing row the
reasons, service by service ("DNS: educonnect.education.gouv.fr does not resolve")."""

from __future__ import annotations

import re
import textwrap
from urllib.parse import urlsplit

from agent.i18n import _, number, yes_no
from config.readiness import Evaluation
from config.samples import unjudged
from config.wire import (
    LanMeasurement,
    Level,
    Measurement,
    ProbeResult,
    ProbeStatus,
    Report,
    RuleOutcome,
    RuleOutcomeStatus,
    ServiceCheck,
    ServicesMeasurement,
)

WIDTH = 100
# probe, measured, rule, result: 10 + 2 + 35 + 2 + 36 + 2 + 13 = 100
_COLS = (10, 35, 36, 13)


def _mark(outcome: RuleOutcomeStatus) -> str:
    return {RuleOutcomeStatus.passed: _("pass"), RuleOutcomeStatus.failed: _("FAIL"),
            RuleOutcomeStatus.no_data: _("no data")}[outcome]


def _kinds(cls: type[Measurement]) -> list[type[Measurement]]:
    return [cls, *(k for sub in cls.__subclasses__() for k in _kinds(sub))]


def _is_bool(probe: str, field: str) -> bool:
    """Whether the wire contract types ``probe.field`` as a yes-or-no value (measured or not)."""
    for kind in _kinds(Measurement):
        info = kind.model_fields.get("kind")
        if info is not None and info.default == probe and field in kind.model_fields:
            return "bool" in str(kind.model_fields[field].annotation)
    return False


def _not_judged(m: Measurement | None, field: str) -> tuple[str, str] | None:
    """``("loss_pct = 2 not judged", why)`` for a figure the rules leave out (config.samples.unjudged):
    the row's cell and the reason, wrapped under the row."""
    if m is None:
        return None
    fields = m.__dict__
    value = fields.get(field)
    if isinstance(value, bool) or not isinstance(value, int | float) or field not in unjudged(fields):
        return None
    why = m.doubtful.get(field) or _("no interval narrow enough to judge a loss by")
    return _("{field} = {value} not judged").format(field=field, value=number(float(value))), why


def _fmt(value: float | None, boolean: bool) -> str:
    if value is None:
        return "-"
    return yes_no(bool(value)) if boolean else number(value)


def _rule_text(o: RuleOutcome, boolean: bool) -> str:
    limit = yes_no(bool(o.threshold)) if boolean and o.threshold in (0, 1) else number(o.threshold, "g")
    source = "" if o.rule_id.startswith(o.source) else f" ({o.source})"
    return f"{o.rule_id}{source}: {o.comparison} {limit}"


def _host(url: str) -> str:
    return urlsplit(url).hostname or url


def service_problem(check: ServiceCheck) -> str:
    """Why one service did not answer, in the technician's words; the tool's own message after it."""
    host = _host(check.url)
    said = (check.error or "").split(": ", 1)[-1]
    if check.failed_step == "dns":
        text = _("DNS: {host} does not resolve").format(host=host)
    elif check.failed_step == "tcp":
        text = _("{name}: no connection to {host}").format(name=check.name, host=host)
    elif check.failed_step == "tls":
        text = _("{name}: the certificate of {host} is not accepted").format(name=check.name, host=host)
    elif check.http_status is not None:
        text = _("{name}: {host} answers HTTP {status}").format(name=check.name, host=host,
                                                               status=check.http_status)
    else:
        text = _("{name}: no answer from {host}").format(name=check.name, host=host)
    return f"{text} ({said})" if said else text


# probes/lan.py's note for a name that did not resolve: "DNS <name>: <what the resolver said>"
_DNS_NOTE = re.compile(r"^DNS (\S+): (?:\w+: )?(.*)$")


def _notes(result: ProbeResult) -> list[str]:
    return [p.strip() for p in (result.reason or "").split("; ") if p.strip()]


def failed_checks(result: ProbeResult) -> list[str]:
    """What a probe that measured found wrong in its own checks: a service that does not answer, a
    name that does not resolve. (Its other notes, a value it could not read, are not failures.)"""
    m = result.measurement
    if isinstance(m, ServicesMeasurement):
        return [service_problem(c) for c in m.services if not c.reachable]
    if isinstance(m, LanMeasurement) and m.dns_names_ok < m.dns_names_total:
        found = [_DNS_NOTE.match(n) for n in _notes(result)]
        return [_("DNS: {host} does not resolve").format(host=f.group(1)) + f" ({f.group(2)})"
                for f in found if f]
    return []


def problems(result: ProbeResult) -> list[str]:
    """The lines shown under a probe: its failed checks when it measured, else why it did not."""
    if result.status in (ProbeStatus.ok, ProbeStatus.degraded):
        return failed_checks(result)
    return _notes(result)


def probe_state(result: ProbeResult) -> str:
    """A probe's state as shown: ``ok`` only when it measured and its own checks found nothing wrong."""
    if result.status in (ProbeStatus.ok, ProbeStatus.degraded) and failed_checks(result):
        return _("problems found")
    return {ProbeStatus.ok: _("ok"), ProbeStatus.degraded: _("partial"),
            ProbeStatus.unavailable: _("unavailable"), ProbeStatus.error: _("error")}[result.status]


def _cell(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def _row(cells: tuple[str, str, str, str]) -> str:
    return "  ".join(f"{_cell(c, w):<{w}}" for c, w in zip(cells, _COLS, strict=True)).rstrip()


def _wrapped(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        out += textwrap.wrap(line, WIDTH, initial_indent="    - ", subsequent_indent="      ")
    return out


def _probe_rows(result: ProbeResult, judged: list[RuleOutcome]) -> list[str]:
    """One probe's rows: its state when it has nothing judged or something to say, each judged
    value, and its problems under the first failing row (or under its state row)."""
    rows: list[str] = []
    found = problems(result)
    state = probe_state(result)
    if not judged or result.status in (ProbeStatus.unavailable, ProbeStatus.error):
        rows.append(_row((result.probe, state, "", "")))
        rows += _wrapped(found)
        found = []
    for o in judged:
        field = o.metric.split(".", 1)[1]
        boolean = _is_bool(result.probe, field)
        value = o.evidence[0].value if o.evidence else None
        doubted = _not_judged(result.measurement, field)
        measured = doubted[0] if doubted else f"{field} = {_fmt(value, boolean)}"
        rows.append(_row((result.probe, measured, _rule_text(o, boolean), _mark(o.outcome))))
        if doubted:
            rows += _wrapped([doubted[1]])
        if o.outcome is RuleOutcomeStatus.failed and found:
            rows += _wrapped(found)
            found = []
    if found:  # problems that failed no rule (a DNS name the profile does not judge): shown all the same
        rows.append(_row((result.probe, state, "", "")))
        rows += _wrapped(found)
    return rows


def level_words(level: Level) -> str:
    """A verdict level in the technician's language."""
    return {Level.not_ready: _("not ready"), Level.no_data: _("no data"), Level.base: _("base"),
            Level.target: _("target")}[level]


def verdict_text(ev: Evaluation, passed: bool) -> str:
    """PASS or FAIL, with the level the collector gives the same report (config/readiness.level_of)."""
    if not passed:
        return _("FAIL — level {level}: {rules}").format(
            level=level_words(ev.level), rules=", ".join(o.rule_id for o in ev.failing()))
    return _("PASS — level {level}: this device and room meet the profile").format(
        level=level_words(ev.level))



def render_check(report: Report, ev: Evaluation, passed: bool) -> str:
    """Probe by probe: what was measured, which rule reads it, and the outcome."""
    by_probe: dict[str, list[RuleOutcome]] = {}
    for o in ev.outcomes:
        by_probe.setdefault(o.metric.split(".", 1)[0], []).append(o)
    header = (_("probe"), _("measured"), _("rule"), _("result"))
    out = [_row(header), _row(tuple("-" * w for w in _COLS))]  # type: ignore[arg-type]
    for result in report.results:
        out += _probe_rows(result, by_probe.pop(result.probe, []))
    for probe, judged in by_probe.items():
        for o in judged:
            boolean = _is_bool(probe, o.metric.split(".", 1)[1])
            out.append(_row((probe, _("not measured by this agent"), _rule_text(o, boolean), _("no data"))))
    verdict = verdict_text(ev, passed)
    out += ["", _("School {uai}, room {room}: {verdict}").format(uai=report.school_uai, room=report.room,
                                                                  verdict=verdict)]
    return "\n".join(out)
