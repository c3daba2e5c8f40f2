"""The equipment verdict as plain English lines: for the terminal report and the exports' notes."""

from __future__ import annotations

from config.equipment import EquipmentOutcome, EquipmentVerdict, Value

MARK = {"pass": "pass", "fail": "FAIL", "no_data": "no data", "not_applicable": "n/a"}


def value_text(v: Value) -> str:
    """How many, and where the figure came from: which agent saw it and when, or who declared it and when."""
    parts = []
    for s in v.measured:
        parts.append(f"measured by {s.hostname} ({s.role or 'role unsaid'}) {s.at:%Y-%m-%d %H:%M}: {s.what}")
    for d in v.declared:
        note = f", {d.note}" if d.note else ""
        parts.append(f"declared {d.item} × {d.count} by {d.by} {d.at:%Y-%m-%d %H:%M} ({d.source}{note})")
    if not parts:
        parts.append("nothing seen or declared")
    text = f"{v.count} — " + "; ".join(parts)
    if v.contradiction:
        text += f" [contradiction: {v.contradiction}]"
    return text


def outcome_lines(o: EquipmentOutcome) -> list[str]:
    """One rule's line, then one line per subject."""
    src = o.source + (" (proposed)" if o.proposed else "")
    met = f"; met in {o.met} of {o.of} classes" if o.scope == "class" and o.of is not None else ""
    if o.scope == "school" and o.needed is not None and o.met is not None:
        met = f"; {o.met} of {o.needed} needed"
    lines = [f"  [{MARK[o.outcome]:>7}] {o.rule_id:<20} {o.title} (gates {o.level}; source {src}){met}"]
    for e in o.evidence:
        extra = f" — {e.note}" if e.note else ""
        shown = value_text(e.value) if e.value is not None else "—"
        lines.append(f"            {e.subject}: {MARK[e.outcome]}: {shown}{extra}")
    if o.missing and o.outcome == "fail":
        lines.append(f"            missing in: {', '.join(o.missing)}")
    if o.note:
        lines.append(f"            {o.note}")
    return lines


def verdict_lines(eq: EquipmentVerdict, level_text: dict[str, str]) -> list[str]:
    """The equipment part: its level, the class count and where it came from, every rule."""
    classes = "unknown" if eq.classes is None else f"{eq.classes} ({eq.classes_origin or 'origin unknown'})"
    lines = [f"Equipment: {level_text[eq.level]}", f"  classes: {classes}; rooms judged as classes: "
             + (", ".join(eq.rooms) or "none")]
    for o in eq.outcomes:
        lines.extend(outcome_lines(o))
    return lines
