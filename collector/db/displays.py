"""The displays an agent's row keeps: its newest report's displays reading (``agents.displays``, the kind
and label of each display as JSON text, and ``displays_at``, that report's time: migration 0022). Ingest
writes them (:func:`report_displays`), the equipment facts read them back (:func:`kept_displays`), so the
pages read one small column per machine, never the reports' payloads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from config.wire import Report

# A machine counts in its school's equipment while it reports: one silent for longer is left out (its room
# may have changed), and a displays reading older than this says too little. Ingest marks the moment a
# machine comes back within it (``agents.equipment_changes``).
WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class Display:
    """One display of a reading: its kind and how to name it (its EDID name, else maker and code)."""

    kind: str
    label: str


def display_of(reading: dict[str, Any]) -> Display:
    """A display of a report's displays measurement: its kind and a name a person knows it by."""
    name = reading.get("name")
    if not name:
        maker = reading.get("manufacturer") or reading.get("pnp_id") or "display"
        code = reading.get("product_code_hex")
        name = f"{maker} {code}" if code else str(maker)
    return Display(kind=str(reading.get("kind") or "unknown"), label=str(name))


def displays_reading(payload: dict[str, Any]) -> tuple[Display, ...] | None:
    """The displays a report's ``displays`` result found; None when the report has no such reading (the
    probe did not run, or was unavailable or failed: that says nothing about what is attached)."""
    for result in payload.get("results") or ():
        if not isinstance(result, dict) or result.get("probe") != "displays":
            continue
        m = result.get("measurement")
        if result.get("status") not in ("ok", "degraded") or not isinstance(m, dict):
            return None
        return tuple(display_of(d) for d in m.get("displays") or () if isinstance(d, dict))
    return None


def report_displays(report: Report) -> str | None:
    """What ingest keeps of a report's displays reading on its agent's row: the displays (kind and label)
    as JSON text; None when the report has no reading (:func:`displays_reading`)."""
    for result in report.results:
        if result.probe == "displays":
            found = displays_reading({"results": [result.model_dump(mode="json", include={
                "probe", "status", "measurement"})]})
            return None if found is None else json.dumps([[d.kind, d.label] for d in found])
    return None


def kept_displays(text: str | None) -> tuple[Display, ...]:
    """An agent row's kept displays back (:func:`report_displays`)."""
    return tuple(Display(kind=k, label=label) for k, label in json.loads(text)) if text else ()
