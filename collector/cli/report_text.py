"""A school's verdict as plain text, for the terminal."""

from __future__ import annotations

from collector.dashboard.render import number
from collector.dashboard.rule_words import why_not_ready
from collector.equipment.text import verdict_lines
from config.wire import Evidence, RuleOutcome, RuleOutcomeStatus, SchoolReadiness

_MARK = {RuleOutcomeStatus.passed: "pass", RuleOutcomeStatus.failed: "FAIL",
         RuleOutcomeStatus.no_data: "no data"}

LEVEL_TEXT = {
    "not_ready": "NOT READY — below the base requirements",
    "base": "BASE — meets the base requirements",
    "target": "TARGET — at the good level",
    "no_data": "NO DATA — not enough measurements to judge",
}


def _value(e: Evidence) -> str:
    if e.value is None:
        return "-"
    return f"{e.value:.4g}"


def _rule_line(o: RuleOutcome) -> list[str]:
    src = o.source + (" (proposed)" if o.proposed else "")
    head = f"  [{_MARK[o.outcome]:>7}] {o.rule_id:<20} {o.metric} {o.comparison} {o.threshold:g}" \
           f"  ({o.aggregate}, {o.window_days} d; gates {o.level}; source {src})"
    lines = [head]
    for e in o.evidence:
        extra = f" — {e.note}" if e.note else ""
        lines.append(f"            {e.subject}: {_value(e)} over {e.samples} sample(s){extra}")
    if o.note and not o.evidence:
        lines.append(f"            {o.note}")
    return lines


def render_school(r: SchoolReadiness, share_min: dict[str, float] | None = None) -> str:
    """The verdict of one school and every rule behind it, then why it is not higher (``share_min``:
    each share rule's required percentage, collector.dashboard.rule_words.share_minimums)."""
    lines = [f"{r.name} ({r.uai}), {r.commune}" + (f" — {r.pupils} pupils" if r.pupils else ""),
             f"Level: {LEVEL_TEXT[r.level.value]} (network)",
             f"Profile: {r.profile_id}, evaluated {r.evaluated_at:%Y-%m-%d %H:%M} UTC",
             "Rules:"]
    for o in r.rules:
        lines.extend(_rule_line(o))
    if r.devices.devices:
        lines.append(f"Devices: {r.devices.devices} seen, {r.devices.devices_failing} failing a device rule")
        for count in r.devices.rules:
            if count.failing:
                names = ", ".join(count.failing_devices)
                lines.append(f"  {count.rule_id}: {count.failing} failing ({names})")
    for item in r.compliance:
        lines.append(f"Legal compliance — {item.title} (source {item.source}): {_MARK[item.outcome]}")
        for f in item.findings:
            lines.append(f"  {f.ssid} on air {f.local_date} {f.first_seen_at:%H:%M}–{f.last_seen_at:%H:%M} "
                         f"({f.readings} reading(s), rooms {', '.join(f.rooms)})")
        if item.note and not item.findings:
            lines.append(f"  {item.note}")
    if r.equipment is not None:
        lines.extend(verdict_lines(r.equipment, LEVEL_TEXT))
    why = why_not_ready(r.rules, share_min or {}, r.level.value, "en", _figure)
    if why:  # the school page's summary, in English
        lines.append(f"Why not higher: {why}")
    return "\n".join(lines)


def _figure(value: float | None, digits: int = 1) -> str:
    return number(value, "en", digits)
