"""Runs probes: the one place where an unexpected exception becomes an ``error`` result."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

from pydantic import ValidationError

from agent import memory
from agent.progress import Progress
from config.wire import ProbeResult, ProbeStatus
from probes.base import Outcome, ProbeContext, ProbeSpec

log = logging.getLogger("socle.agent.runner")


def _clean(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = text[:300]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def run_probe(spec: ProbeSpec, ctx: ProbeContext, timeout_s: float) -> ProbeResult:
    """Run one probe in a daemon thread; a crash or a hang becomes an ``error`` result."""
    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["outcome"] = spec.run(ctx)
        except BaseException as exc:  # noqa: BLE001 - the runner is the boundary
            box["error"] = exc

    start = time.perf_counter()
    thread = threading.Thread(target=target, name=f"probe-{spec.name}", daemon=True)
    thread.start()
    thread.join(timeout_s)
    duration = round(time.perf_counter() - start, 3)
    if thread.is_alive():
        log.warning("probe %s still running after %g s; its result is dropped", spec.name, timeout_s)
        return ProbeResult(probe=spec.name, status=ProbeStatus.error, duration_s=duration,
                           reason=f"timed out after {timeout_s:g} s")
    if "error" in box:
        exc = box["error"]
        assert isinstance(exc, BaseException)
        log.warning("probe %s failed: %s", spec.name, _clean(exc), exc_info=exc)
        return ProbeResult(probe=spec.name, status=ProbeStatus.error, duration_s=duration,
                           reason=f"probe crashed: {_clean(exc)}")
    outcome = box.get("outcome")
    if not isinstance(outcome, Outcome):
        return ProbeResult(probe=spec.name, status=ProbeStatus.error, duration_s=duration,
                           reason=f"probe returned {type(outcome).__name__}, not an Outcome")
    try:
        m = outcome.measurement
        # Probes fill their measurement field by field, which pydantic does not check:
        # validate it whole here, so a value the contract forbids (0 Mbit/s, NaN) never
        # reaches the wire, where the collector would refuse the whole report.
        checked = None if m is None else type(m).model_validate(m.model_dump())
        return ProbeResult(probe=spec.name, status=outcome.status, reason=outcome.reason,
                           duration_s=duration, measurement=checked)
    except ValidationError as exc:
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:3])
        return ProbeResult(probe=spec.name, status=ProbeStatus.error, duration_s=duration,
                           reason=f"probe returned an invalid measurement: {where}")


def run_probes(specs: Iterable[ProbeSpec], ctx: ProbeContext, timeout_s: float,
               progress: Progress | None = None) -> list[ProbeResult]:
    """Run probes one after the other (so they do not disturb each other's figures), showing a live
    line for each that takes long when ``progress`` is given (agent/progress.py)."""
    results = []
    if progress is not None:
        ctx.progress = progress.note
    try:
        for i, spec in enumerate(specs):
            if i:
                memory.release()
            if progress is not None:
                progress.step(spec.name)
            # A probe that needs longer by nature (a bandwidth test) says so in its spec.
            results.append(run_probe(spec, ctx, max(timeout_s, spec.default_timeout_s or 0.0)))
            if progress is not None:
                progress.done()
    finally:
        if progress is not None:
            progress.close()
    return results
