"""A school's devices at a glance: how many fail each device rule (E5, E7).

Pure: it reads the per-device evidence that :func:`config.readiness.evaluate`
already gives for device-scope rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from config.profile import Scope
from config.wire import RuleOutcome, RuleOutcomeStatus


@dataclass(frozen=True)
class RuleDeviceCount:
    """One device rule and how the school's devices fare against it."""

    rule_id: str
    title: str
    source: str
    passing: int
    failing: int
    no_data: int
    failing_devices: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DeviceSummary:
    """Devices seen, devices failing at least one rule, and the count per rule."""

    devices: int
    devices_failing: int
    rules: list[RuleDeviceCount]


def device_summary(outcomes: Sequence[RuleOutcome]) -> DeviceSummary:
    """Count failing devices per device-scope rule, and across all of them."""
    seen: set[str] = set()
    failing_any: set[str] = set()
    rules = []
    for o in outcomes:
        if o.scope != Scope.device.value:
            continue
        by = {RuleOutcomeStatus.passed: 0, RuleOutcomeStatus.failed: 0, RuleOutcomeStatus.no_data: 0}
        failed = []
        for e in o.evidence:
            seen.add(e.subject)
            by[e.outcome] += 1
            if e.outcome is RuleOutcomeStatus.failed:
                failed.append(e.subject)
        failing_any.update(failed)
        rules.append(RuleDeviceCount(
            rule_id=o.rule_id, title=o.title, source=o.source,
            passing=by[RuleOutcomeStatus.passed], failing=by[RuleOutcomeStatus.failed],
            no_data=by[RuleOutcomeStatus.no_data], failing_devices=sorted(failed)))
    return DeviceSummary(devices=len(seen), devices_failing=len(failing_any), rules=rules)
