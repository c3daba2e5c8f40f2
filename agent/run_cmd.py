"""``socle-agent run`` and ``job`` (one scheduled check), and the schedule and spool lines of ``status``."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from agent.check import build_report
from agent.client import CollectorError
from agent.delivery import deliver, keep, open_spool, rotate_if_due, spool_path
from agent.exits import EXIT_PASS, EXIT_UNREACHABLE
from agent.filing import unkept_notes
from agent.i18n import _, field, number
from agent.identity import current_incarnation
from agent.runlog import last_runs
from agent.runner import run_probes
from agent.schedule import (
    next_nightly,
    nightly_slot,
    offset_fraction,
    parse_hhmm,
    validate_days,
)
from agent.state import AgentState
from config.agent_settings import AgentSettings
from config.compat import UTC
from config.loading import ConfigError
from probes import registry
from probes.base import ProbeContext

log = logging.getLogger("socle.agent.run")


def zone(settings: AgentSettings) -> ZoneInfo:
    """The schedule's time zone, or a configuration error that names it."""
    try:
        return ZoneInfo(settings.schedule.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"schedule.timezone: unknown time zone {settings.schedule.timezone!r}") from None


def check_schedule_settings(settings: AgentSettings) -> None:
    """Refuse light-check probes the registry does not know, and malformed day lists."""
    unknown = [n for n in settings.schedule.light.probes if n not in registry.PROBES]
    if unknown:
        raise ConfigError(f"schedule.light.probes: unknown probe(s) {', '.join(unknown)}; "
                          f"known: {', '.join(sorted(registry.PROBES))}")
    try:
        validate_days(settings.schedule.light.days)
    except ValueError as exc:
        raise ConfigError(f"schedule.light.{exc}") from None


def slot_text(state: AgentState, settings: AgentSettings, now: datetime) -> tuple[str, str]:
    """This agent's nightly time of day, and its next nightly run, as text."""
    s = settings.schedule
    slot = nightly_slot(parse_hhmm(s.window_start), parse_hhmm(s.window_end),
                        offset_fraction(state.instance_id()))
    tz = zone(settings)
    nxt = next_nightly(now, slot, tz)
    return slot.isoformat(), nxt.isoformat(timespec="seconds")


def exec_daemon(state: AgentState, settings: AgentSettings, config: Path | None, verbose: bool) -> int:
    """Check the schedule settings, then become the small scheduler process (agent/daemon.py)."""
    from agent.daemon import Plan
    from agent.launch import SCHEDULER_COMMAND, agent_argv

    check_schedule_settings(settings)
    zone(settings)
    config = config or (Path(os.environ["SOCLE_AGENT_CONFIG"]) if os.environ.get("SOCLE_AGENT_CONFIG")
                        else None)
    plan = Plan(state_dir=state.root.resolve(), config=config.resolve() if config else None,
                instance_id=state.instance_id(), spool_path=spool_path(state, settings).resolve(),
                check_budget_s=settings.probes.timeout_s * (len(settings.probes.enabled) + 1) + 120,
                schedule=settings.schedule.model_dump(mode="json"))
    if os.name == "nt":  # exec would end this process there: Task Scheduler must see one process
        from agent.daemon import serve

        return serve(plan)
    argv = agent_argv(SCHEDULER_COMMAND, "--plan", plan.to_json(), *(["-v"] if verbose else []))
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(argv[0], argv)
    return 0  # not reached


def run_job(state: AgentState, settings: AgentSettings, kind: str,
            context: Callable[[], ProbeContext]) -> int:
    """One scheduled check (``nightly``: every enabled probe; ``light``: the light ones), kept then sent.

    Exit code 0 when sent, 3 when kept for later; the scheduler records the outcome.
    """
    cred = state.credential()
    if cred is None:
        raise ConfigError("not enrolled: run 'socle-agent enroll'")
    names = settings.probes.enabled if kind == "nightly" else settings.schedule.light.probes
    ctx = context()
    results = run_probes([registry.get(n) for n in names], ctx, settings.probes.timeout_s)
    report = build_report(state, cred.school_uai, cred.room, results, ctx)
    with open_spool(state, settings) as spool:
        keep(spool, report)
        sent = deliver(state, settings, spool, attempts=1, max_wait_s=0)
    if sent.error is not None:
        log.warning("report kept for later: %s", sent.error)
        return EXIT_UNREACHABLE
    try:
        rotate_if_due(state, settings, time.time(), current_incarnation(state.instance_id(), state.root))
    except CollectorError as exc:
        log.warning("credential rotation failed (the current one still works): %s", exc)
    return EXIT_PASS


def status_lines(state: AgentState, settings: AgentSettings) -> list[str]:
    """Last runs, next run, spool depth, dropped count and last error."""
    now = datetime.now(UTC)
    out = []
    runs = last_runs(state.root)
    labels = {"nightly": _("last nightly:"), "light": _("last light:"), "check": _("last check:")}
    for job in ("nightly", "light", "check"):
        rec = runs.get(job)
        if rec is not None:
            err = f" — {rec.error}" if rec.error else ""
            out.append(field(labels[job], f"{rec.at.isoformat(timespec='seconds')} {rec.outcome}{err}"))
    if not runs:
        out.append(field(_("last run:"), _("never")))
    try:
        slot, nxt = slot_text(state, settings, now)
        out.append(field(_("next nightly:"), _("{next} (this agent's slot {slot} in {start}–{end})").format(
            next=nxt, slot=slot, start=settings.schedule.window_start, end=settings.schedule.window_end)))
    except ConfigError as exc:
        out.append(field(_("next nightly:"), _("unknown ({why})").format(why=exc)))
    with open_spool(state, settings) as spool:
        st = spool.stats()
    oldest = "" if st.oldest_at is None else _(", oldest from {at}").format(
        at=datetime.fromtimestamp(st.oldest_at, UTC).isoformat(timespec="seconds"))
    out.append(field(_("spool:"), _("{n} waiting ({kb} kB{oldest})").format(
        n=st.depth, kb=number(st.size_bytes / 1000, ".1f"), oldest=oldest)))
    out.append(field(_("sent in total:"), st.sent_total))
    out.append(field(_("dropped:"), _("{n} (oldest first, beyond {mb} MB or {days} days)").format(
        n=st.dropped_total, mb=f"{settings.spool.max_mb:g}", days=f"{settings.spool.max_age_days:g}")))
    out.append(field(_("refused:"), st.refused_total))
    unkept = st.unkept_total + len(unkept_notes(state))
    out.append(field(_("lost unkept:"), _("{n} (measured while the disk or the state directory refused "
                                          "the report, and not delivered)").format(n=unkept)))
    if st.not_before is not None and st.not_before > now.timestamp():
        at = datetime.fromtimestamp(st.not_before, UTC).isoformat(timespec="seconds")
        out.append(field(_("next send:"), _("not before {at} ({n} failure(s) in a row)").format(
            at=at, n=st.failures)))
    out.append(field(_("last error:"), st.last_error or _("none")))
    return out
