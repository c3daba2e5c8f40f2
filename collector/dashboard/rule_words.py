"""A rule's outcome in a reader's words: what is measured, how, against what, and the judge's notes.

The judge (config/readiness.py) speaks in identifiers (``bandwidth.download_mbps >= 8``,
``median``, ``school``) and writes its notes in English from :data:`config.readiness.NOTES`.
This module turns them into French (or English) for the dashboard and the printed
report: one label and unit per metric, the aggregates and levels by name, yes/no for
the metrics that are true/false, and each note template translated (the templates are
read from the judge's own table, so a note can never be shown half-translated: an
unknown one is shown as written, and a test checks every template has its French form).

:func:`why_not_ready` is the school page's and ``socle-collector report``'s summary of
the failing rules: each one's measured figure against the required one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from config.profile import Profile
from config.readiness import NOTES
from config.wire import Evidence, RuleOutcome, RuleOutcomeStatus

Number = Callable[..., str]  # (value, digits) -> the value written for the reader


@dataclass(frozen=True)
class Metric:
    """How a metric reads: its name in each language, its unit, whether it is a yes/no."""

    fr: str
    en: str
    unit: str = ""
    unit_en: str | None = None
    yes_no: bool = False


METRICS: dict[str, Metric] = {
    "bandwidth.download_mbps": Metric("débit descendant", "download", "Mbit/s"),
    "bandwidth.upload_mbps": Metric("débit montant", "upload", "Mbit/s"),
    "latency.rtt_median_ms": Metric("aller-retour médian", "median round trip", "ms"),
    "latency.jitter_ms": Metric("gigue", "jitter", "ms"),
    "latency.loss_pct": Metric("perte de paquets", "packet loss", "%"),
    "bandwidth.loss_pct": Metric("perte de paquets (ICMP)", "packet loss (ICMP)", "%"),
    "device.ram_total_gb": Metric("mémoire", "memory", "Go", "GB"),
    "device.cpu_cores_logical": Metric("fils d'exécution", "threads"),
    "device.disk_total_gb": Metric("disque système", "system disk", "Go", "GB"),
    "device.disk_free_pct": Metric("disque libre", "free disk", "%"),
    "device.disk_is_ssd": Metric("disque SSD", "SSD disk", yes_no=True),
    "device.os_supported": Metric("système maintenu", "supported OS", yes_no=True),
    "device.battery_health_pct": Metric("santé de la batterie", "battery health", "%"),
    "filtering.in_place": Metric("filtrage en place", "filtering in place", yes_no=True),
    "services.all_reachable": Metric("services joignables", "services reachable", yes_no=True),
    "services.slowest_total_ms": Metric("service le plus lent", "slowest service", "ms"),
    "wifi.channel_plan_ok": Metric("canaux 1, 6 ou 11", "channels 1, 6 or 11", yes_no=True),
    "wifi.channel_utilisation_pct": Metric("occupation du canal", "channel utilisation", "%"),
    "wifi.security_level": Metric("niveau de sécurité Wi-Fi", "Wi-Fi security level"),
    "wifi.signal_dbm": Metric("signal Wi-Fi", "Wi-Fi signal", "dBm"),
    "wifi.snr_db": Metric("rapport signal/bruit", "signal-to-noise ratio", "dB"),
}

AGGREGATES = {
    "fr": {"median": "médiane", "mean": "moyenne", "min": "minimum", "max": "maximum", "p10": "10e centile",
           "p90": "90e centile", "latest": "dernière valeur", "share": "part des mesures"},
    "en": {"median": "median", "mean": "mean", "min": "minimum", "max": "maximum", "p10": "10th percentile",
           "p90": "90th percentile", "latest": "latest value", "share": "share of samples"},
}
LEVELS = {"fr": {"floor": "plancher", "base": "socle", "target": "cible"},
          "en": {"floor": "floor", "base": "base", "target": "target"}}
COMPARISONS = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "==": "=", "!=": "≠"}
SUBJECTS = {"fr": {"school": "école", "room": "salle", "device": "poste"},
            "en": {"school": "school", "room": "room", "device": "device"}}
YES_NO = {"fr": ("oui", "non"), "en": ("yes", "no")}

# The judge's notes (config.readiness.NOTES), in French; the fields are the same.
NOTES_FR = {
    "too_few": "{n} mesure(s), {needed} nécessaire(s)",
    "limited_set_aside": "{n} mesure(s) limitée(s) par l'appareil de mesure mise(s) de côté",
    "met_though_limited": "respectée bien que limitée par {causes}",
    "short_but_limited": "sous le seuil, mais toutes les mesures étaient limitées par {causes} : "
                         "non retenu contre l'école",
    "no_measurement": "aucune mesure « {metric} » sur les {days} derniers jours",
    "no_measurement_in_hours": "aucune mesure « {metric} » aux heures {hours} ({timezone}) sur les {days} "
                               "derniers jours",
    "pupils_unknown": "effectif inconnu : le seuil fixe s'applique",
    "scaled": "seuil proportionnel : {per:g} × {people} personnes = {scaled:g}",
}


def metric_name(metric: str, lang: str) -> str:
    """A metric's name for the reader (the identifier itself when it has none yet)."""
    m = METRICS.get(metric)
    return metric if m is None else (m.fr if lang == "fr" else m.en)


def _unit(metric: str, lang: str) -> str:
    m = METRICS.get(metric)
    if m is None:
        return ""
    return m.unit if lang == "fr" or m.unit_en is None else m.unit_en


def figure(metric: str, value: float | None, lang: str, num: Number, *, share: bool = False) -> str:
    """A measured or required figure with its unit: "12 Mbit/s", "oui", "85 %" for a share."""
    if value is None:
        return "—"
    if share:
        return f"{num(value, 0)} %"
    m = METRICS.get(metric)
    if m is not None and m.yes_no and value in (0, 1):
        return YES_NO[lang][0 if value else 1]
    unit = _unit(metric, lang)
    return f"{num(value, 2)} {unit}".strip()


def subject(name: str, lang: str) -> str:
    """An evidence subject: "école" for the school; rooms and devices keep their own names."""
    return SUBJECTS.get(lang, SUBJECTS["fr"]).get(name, name) if name == "school" else name


def expression(o: RuleOutcome, lang: str, num: Number) -> str:
    """What a rule tests, in words: "débit descendant ≥ 8 Mbit/s (médiane, 7 j)"."""
    cmp = COMPARISONS.get(o.comparison, o.comparison)
    m = METRICS.get(o.metric)
    if m is not None and m.yes_no and o.comparison == "==" and o.threshold in (0, 1):
        sep = " : " if lang == "fr" else ": "
        test = f"{metric_name(o.metric, lang)}{sep}{YES_NO[lang][0 if o.threshold else 1]}"
    else:
        test = f"{metric_name(o.metric, lang)} {cmp} {figure(o.metric, o.threshold, lang, num)}"
    aggregate = aggregate_name(o.aggregate, lang)
    days = "j" if lang == "fr" else "d"
    return f"{test} ({aggregate}, {o.window_days} {days})"


def aggregate_name(aggregate: str | None, lang: str) -> str:
    """An aggregate (median, latest, share…) by name."""
    return AGGREGATES.get(lang, AGGREGATES["fr"]).get(aggregate or "", aggregate or "")


def level_name(level: str, lang: str) -> str:
    """A rule's level (floor, base, target) by name."""
    return LEVELS.get(lang, LEVELS["fr"]).get(level, level)


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)(?::[^}]*)?\}", template)
    out = []
    for i, part in enumerate(parts):
        out.append(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)")
    return re.compile("^" + "".join(out) + "$")


_PATTERNS = {key: _pattern(template) for key, template in NOTES.items()}


def note(text: str | None, lang: str) -> str:
    """A judge's note in ``lang`` (parts joined by "; " each translated; an unknown part as written)."""
    if not text or lang != "fr":
        return text or ""
    out = []
    for part in text.split("; "):
        for key, pattern in _PATTERNS.items():
            found = pattern.match(part)
            if found:
                values: dict[str, object] = dict(found.groupdict())
                if "metric" in values:
                    values["metric"] = metric_name(str(values["metric"]), lang)
                for k in ("per", "scaled"):
                    if k in values:
                        values[k] = float(str(values[k]))
                out.append(NOTES_FR[key].format(**values))
                break
        else:
            out.append(part)
    return " ; ".join(out)


def _failed_evidence(o: RuleOutcome) -> list[Evidence]:
    return [e for e in o.evidence if e.outcome is RuleOutcomeStatus.failed]


def _strictest(rules: list[RuleOutcome]) -> RuleOutcome:
    """Of failing rules on one metric, the one asking most (the highest floor, the lowest ceiling)."""
    if rules[0].comparison in ("<", "<="):
        return min(rules, key=lambda o: o.threshold)
    return max(rules, key=lambda o: o.threshold)


def _clause(rules: list[RuleOutcome], share_min: dict[str, float], lang: str, num: Number) -> str:
    """Failing rules on one metric: "débit descendant 12 Mbit/s pour 16 Mbit/s requis (A1, A2)"."""
    o = _strictest(rules)
    name = metric_name(o.metric, lang)
    bad = _failed_evidence(o)
    worst = bad[0] if bad else None
    if o.rule_id in share_min:
        cmp = COMPARISONS.get(o.comparison, o.comparison)
        limit = figure(o.metric, o.threshold, lang, num)
        measured = figure(o.metric, worst.value if worst else None, lang, num, share=True)
        required = f"{num(share_min[o.rule_id], 0)} %"
        text = (f"{name} {cmp} {limit} dans {measured} des mesures pour {required} requis" if lang == "fr"
                else f"{name} {cmp} {limit} in {measured} of samples where {required} is required")
    else:
        measured = figure(o.metric, worst.value if worst else None, lang, num)
        required = figure(o.metric, o.threshold, lang, num)
        text = (f"{name} {measured} pour {required} requis" if lang == "fr"
                else f"{name} {measured} where {required} is required")
    kind = SUBJECTS.get(lang, SUBJECTS["fr"]).get(o.scope, "")
    where = [f"{kind} {e.subject}" for e in bad if e.subject != "school"]
    if where:
        text += ", " + ", ".join(where[:3]) + ("…" if len(where) > 3 else "")
    sources = sorted({r.source for r in rules}, key=lambda src: (len(src), src))
    return f"{text} ({', '.join(sources)})"


def share_minimums(profile: Profile) -> dict[str, float]:
    """Each share rule's required percentage of samples (``share_min_pct``), by rule id."""
    return {r.id: r.share_min_pct for r in profile.rules if r.share_min_pct is not None}


def _clauses(rules: list[RuleOutcome], share_min: dict[str, float], lang: str, num: Number) -> str:
    by_metric: dict[str, list[RuleOutcome]] = {}
    for o in rules:
        by_metric.setdefault(o.metric, []).append(o)
    return (" ; " if lang == "fr" else "; ").join(_clause(group, share_min, lang, num)
                                                  for group in by_metric.values()) + "."


def why_not_ready(outcomes: Sequence[RuleOutcome], share_min: dict[str, float], level: str, lang: str,
                  num: Number) -> str | None:
    """The failing rules in one or two sentences, each measured figure against the required one (rules
    on one metric said once, with the strictest threshold), the rules that decide the level (floor,
    base) first, then the target's; None when no rule fails.

    ``share_min`` gives each share rule's required percentage (:func:`share_minimums`).
    """
    failing = [o for o in outcomes if o.outcome is RuleOutcomeStatus.failed]
    if not failing:
        return None
    gating = [o for o in failing if o.level in ("floor", "base")]
    rest = [o for o in failing if o.level not in ("floor", "base")]
    colon = " : " if lang == "fr" else ": "
    sentences = []
    if gating:
        head = "Pas prête" if lang == "fr" else "Not ready"
        if level != "not_ready":  # only rules that do not gate the level fail: the school keeps it
            head = "Socle non atteint sur" if lang == "fr" else "Base not met on"
        sentences.append(head + colon + _clauses(gating, share_min, lang, num))
    if rest:
        head = "Cible non atteinte" if lang == "fr" else "Target not met"
        sentences.append(head + colon + _clauses(rest, share_min, lang, num))
    return " ".join(sentences)
