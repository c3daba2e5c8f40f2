"""A school's devices at a glance: how many fail each device rule (E5, E7).

Pure: it reads the per-device evidence that :func:`config.readiness.evaluate`
already gives for device-scope rules.
"""

from __future__ import annotations

from collections.abc import Sequence

from config.profile import Scope
from config.wire import DeviceRuleCount, DeviceSummary, RuleOutcome, RuleOutcomeStatus


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
        rules.append(DeviceRuleCount(
            rule_id=o.rule_id, title=o.title, source=o.source,
            passing=by[RuleOutcomeStatus.passed], failing=by[RuleOutcomeStatus.failed],
            no_data=by[RuleOutcomeStatus.no_data], failing_devices=sorted(failed)))
    return DeviceSummary(devices=len(seen), devices_failing=len(failing_any), rules=rules)
