"""What ``check`` and ``survey`` share: whom a report is for, the profile that judges it, and filing it.

Filing keeps the report in the spool before any attempt to send it, then offers
the spool to the collector once; the command's exit code (agent/exits.py) says
what became of the report.
"""

from __future__ import annotations

import argparse
import logging
import sqlite3
import sys

from agent.client import CollectorError
from agent.delivery import deliver, keep, make_client, open_spool
from agent.exits import EXIT_NOT_KEPT, EXIT_UNREACHABLE, EXIT_USAGE, UsageError
from agent.i18n import _
from agent.identity import current_incarnation
from agent.progress import during
from agent.sender import FlushResult
from agent.state import AgentState, Credential
from config.agent_settings import AgentSettings
from config.profile import Profile, load_profile
from config.uai import UaiError, validate_uai
from config.wire import Report

log = logging.getLogger("socle.agent.filing")


def uai_arg(value: str) -> str:
    """``--uai``'s type: a valid UAI, or argparse's usage error naming what is wrong."""
    try:
        return validate_uai(value)
    except UaiError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def school_and_room(cred: Credential | None, uai: str | None, room: str | None, *, no_send: bool,
                    command: str) -> tuple[str, str]:
    """The school and room a report is for: those given, else the enrolment's; a usage error without."""
    if cred is None and not no_send:
        raise UsageError(_("this agent is not enrolled: run 'socle-agent enroll' first, or use --no-send"))
    uai = uai or (cred.school_uai if cred else None)
    room = room or (cred.room if cred else None)
    if uai is None or room is None:
        missing = " and ".join(flag for flag, v in (("--uai", uai), ("--room", room)) if v is None)
        raise UsageError(_("not enrolled: give {missing} to {command} with --no-send").format(
            missing=missing, command=command))
    return uai, room


def judging_profile(settings: AgentSettings, cred: Credential | None, *,
                    offline: bool) -> tuple[Profile, str]:
    """The profile a report is judged with on the spot, and where it came from.

    The settings' ``profile_path`` when set; else, for an enrolled agent that
    sends its report, the profile its collector judges with; else, or when the
    collector does not answer, the bundled default.
    """
    if settings.profile_path is not None:
        return load_profile(settings.profile_path), str(settings.profile_path)
    if cred is not None and not offline:
        try:
            return make_client(settings, cred).profile(), _("the collector")
        except CollectorError as exc:
            log.warning("could not fetch the profile (%s); judging with the bundled default", exc)
    return load_profile(None), _("the bundled default")


def judged_with(profile: Profile, origin: str, facts: str | None = None) -> str:
    """The line under a verdict that says which profile gave it (and with which school facts)."""
    if facts:
        return _("(judged with {origin} profile '{profile}' and {facts})").format(
            origin=origin, profile=profile.profile.id, facts=facts)
    return _("(judged with {origin} profile '{profile}')").format(origin=origin, profile=profile.profile.id)


UNKEPT = "unkept"  # in the state directory: one line per report measured that was neither kept nor sent


def keep_report(state: AgentState, settings: AgentSettings, report: Report) -> tuple[Report, str | None]:
    """Write the report to the spool; returns it as kept (with the spool's health) — or, when this
    machine cannot keep it (a full disk, a state directory it cannot write), the report and why."""
    try:
        with open_spool(state, settings) as spool:
            notes = unkept_notes(state)
            spool.count_unkept(len(notes))
            kept = keep(spool, report)
        if notes:
            (state.root / UNKEPT).unlink(missing_ok=True)
        return kept, None
    except (sqlite3.Error, OSError) as exc:
        log.warning("report %s cannot be kept: %s", report.report_id, exc)
        return report, str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def unkept_notes(state: AgentState) -> list[str]:
    """The reports noted as lost since the spool last counted them."""
    try:
        return (state.root / UNKEPT).read_text(encoding="utf-8").split()
    except OSError:
        return []


def _note_unkept(state: AgentState, report: Report) -> bool:
    """Note a lost report for ``status`` and the next report; whether the note could be written."""
    try:
        with (state.root / UNKEPT).open("a", encoding="utf-8") as fh:
            fh.write(f"{report.report_id}\n")
        return True
    except OSError:
        return False


def send_unkept(state: AgentState, settings: AgentSettings, report: Report, why: str, what: str) -> int:
    """A report this machine could not keep: sent straight to the collector if it can be, its loss noted
    otherwise; always :data:`EXIT_NOT_KEPT`, with what happened in one line."""
    cred = state.credential()
    sent = False
    if cred is not None:
        try:
            incarnation = current_incarnation(state.instance_id(), state.root)
            make_client(settings, cred, incarnation).send_report(report)
            sent = True
        except CollectorError as exc:
            why += f"; and the collector did not take it: {exc}"
    if sent:
        print(f"socle-agent: {what} {report.report_id} could not be kept on this machine ({why}); "
              "it was sent to the collector directly and stored. Free some space in "
              f"{state.root}", file=sys.stderr)
    else:
        noted = "its loss is noted for 'socle-agent status'" if _note_unkept(state, report) else \
            "its loss could not even be noted"
        print(f"socle-agent: {what} {report.report_id} is lost: it could not be kept on this machine "
              f"({why}); {noted}. Free some space in {state.root}", file=sys.stderr)
    return EXIT_NOT_KEPT


def delivery_exit(sent: FlushResult) -> int:
    """The exit code of a delivery that failed: 3 no answer, overloaded or a server fault; else 2."""
    if sent.status is None or sent.status >= 500 or sent.status == 429:
        return EXIT_UNREACHABLE
    return EXIT_USAGE


def send_kept(state: AgentState, settings: AgentSettings, report: Report, code: int, what: str) -> int:
    """Offer the spool to the collector once, now; ``code`` when ``report`` reached it, else why not.

    ``what`` names the report in the messages ("report", "survey").
    """
    with open_spool(state, settings) as spool, during(_("sending to the collector")):
        sent = deliver(state, settings, spool, attempts=1, max_wait_s=0)
    if sent.error is not None:
        print(_("socle-agent: {what} not sent yet: {error}").format(what=_(what), error=sent.error) + "\n  "
              + _("kept in the spool ({waiting} waiting); 'socle-agent run' or 'socle-agent flush' will "
                  "send it").format(waiting=sent.remaining), file=sys.stderr)
        return delivery_exit(sent)
    refused = dict(sent.refused).get(str(report.report_id))
    if refused is not None:
        print(f"socle-agent: the collector refused {what} {report.report_id}: {refused}", file=sys.stderr)
        return EXIT_USAGE
    earlier = _("; {n} earlier report(s) from the spool sent too").format(n=sent.sent - 1) \
        if sent.sent > 1 else ""
    print(_("{what} {id} stored by the collector").format(what=_(what), id=report.report_id) + earlier,
          file=sys.stderr)
    return code
