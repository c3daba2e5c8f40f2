"""``socle-agent``: enrol this machine, check it on the spot, run single probes.

Every command ends with one of the exit codes of agent/exits.py.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from pathlib import Path

import requests
from pydantic import ValidationError

from agent import __version__, early
from agent.args import server_arg, url_arg
from agent.bundle_cmd import add_bundle_parser, cmd_bundle
from agent.check import run_check
from agent.client import CollectorClient, CollectorError
from agent.delivery import collector_url, deliver, open_spool, tls_verify
from agent.displays_cmd import add_displays_parser, cmd_displays
from agent.exits import (
    EXIT_FAIL,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_PASS,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    UsageError,
)
from agent.filing import (
    delivery_exit,
    judged_with,
    judging_profile,
    keep_report,
    school_and_room,
    send_kept,
    send_unkept,
    uai_arg,
)
from agent.i18n import _, field, use_system_language
from agent.identity import current_incarnation
from agent.moving import MoveRefused, enroll_confirming
from agent.progress import during, for_terminal
from agent.run_cmd import exec_daemon, run_job, status_lines
from agent.runlog import record_run
from agent.runner import run_probes
from agent.school_facts import judging_facts
from agent.sender import FlushResult
from agent.service import has_net_raw
from agent.state import AgentState, Credential, default_state_dir
from agent.survey import add_survey_parser, cmd_survey
from agent.table import render_check
from agent.tls import use_system_trust
from agent.wifi_cmd import add_wifi_parser, cmd_wifi
from config.agent_settings import AgentSettings, load_agent_settings
from config.loading import ConfigError, describe_validation_error
from config.terminal import printable_output, safe_console, utf8_stdout
from config.wire import DEVICE_ROLES, EnrollRequest, ProbeStatus
from probes import registry
from probes.base import ProbeContext, current_os

log = logging.getLogger("socle.agent")


def build_parser() -> argparse.ArgumentParser:
    """The command line, with help for every command (one statement per option: over 60 lines, and
    clearer that way than split)."""
    # Options accepted before or after the command; SUPPRESS keeps a subcommand's
    # unset option from overwriting one given before it.
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument("--state-dir", type=Path, metavar="DIR",
                        help="where the agent keeps its identity and credential (env SOCLE_AGENT_HOME)")
    common.add_argument("--config", type=Path, metavar="FILE", help="settings file (env SOCLE_AGENT_CONFIG)")
    common.add_argument("-v", "--verbose", action="store_true", help="log more")

    p = argparse.ArgumentParser(prog="socle-agent", parents=[common],
                                description="Socle's agent: measures this classroom machine and its "
                                "network, and reports to the collector.",
                                epilog="Exit codes: 0 pass, 1 does not meet the profile, 2 usage or "
                                "configuration error, 3 collector unreachable, 4 the agent's own failure, "
                                "5 measured but not kept on this machine, 130 interrupted.")
    p.add_argument("--version", action="version", version=f"socle-agent {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    e = sub.add_parser("enroll", parents=[common], help="enrol this machine to a school and room")
    e.add_argument("--collector", required=True, metavar="URL", type=url_arg, help="the collector's base URL")
    e.add_argument("--code", required=True, help="the school's code from 'socle-collector enroll-code' "
                   "(one code may enrol a room's worth of machines)")
    e.add_argument("--room", help="the room this machine is in, e.g. 'CM1-B' (default: the room the code's "
                   "hostname pattern finds in this machine's name, e.g. CM1 for CM1-PC03)")
    e.add_argument("--yes", action="store_true",
                   help="move this machine without asking if it is enrolled to another school (scripts)")
    e.add_argument("--role", choices=DEVICE_ROLES,
                   help="what the machine is for: teacher (the class's computer, driving its projector or "
                        "interactive display), pupil, mobile (a laptop or tablet of a mobile class) or "
                        "shared; it counts for the equipment rules (an admin can change it later with "
                        "'socle-collector agent role')")

    c = sub.add_parser("check", parents=[common], help="run every enabled probe now, judge, send")
    c.add_argument("--json", action="store_true", help="print the report as JSON instead of a table")
    c.add_argument("--no-send", action="store_true", help="keep the report local")
    c.add_argument("--uai", type=uai_arg,
                   help="school UAI for an agent that is not enrolled (with --no-send)")
    c.add_argument("--room", help="room for an agent that is not enrolled (with --no-send)")

    pr = sub.add_parser("probe", parents=[common], help="run one probe alone and print its result")
    pr.add_argument("name", help=f"one of: {', '.join(sorted(registry.PROBES))}")
    pr.add_argument("--server", metavar="URL", type=server_arg,
                    help="server to measure against (default: the collector)")
    pr.add_argument("--json", action="store_true", help="print JSON")
    pr.add_argument("--record", metavar="FILE", help="also write the raw series to FILE as JSON (bandwidth)")

    f = sub.add_parser("flush", parents=[common], help="send the reports the spool holds now")
    f.add_argument("--attempts", type=int, default=3, help="tries before giving up for now (default 3)")
    f.add_argument("--max-wait", type=float, default=30.0, metavar="S",
                   help="longest wait between tries, Retry-After included (default 30 s)")

    sub.add_parser("status", parents=[common], help="show enrolment, schedule and spool")
    sub.add_parser("run", parents=[common], help="run the schedule: nightly check, light checks, delivery")
    job = sub.add_parser("job", parents=[common], help="one scheduled check now (what 'run' starts)")
    job.add_argument("kind", choices=("nightly", "light"))
    svc = sub.add_parser("install-service", parents=[common],
                         help="install and start the service: systemd (Linux), Task Scheduler (Windows), "
                         "launchd (macOS)")
    svc.add_argument("--user", default="socle-agent",
                     help="Linux: system user the service runs as (made if missing)")
    svc.add_argument("--unit-dir", type=Path, default=Path("/etc/systemd/system"), metavar="DIR",
                     help="Linux: where the systemd unit goes")
    svc.add_argument("--print", dest="print_only", action="store_true",
                     help="print what would be written and run, and change nothing")
    svc.add_argument("--no-enable", action="store_true", help="write and register, but do not start it")
    add_wifi_parser(sub, common)
    add_displays_parser(sub, common)
    add_bundle_parser(sub, common)
    add_survey_parser(sub, common)
    return p


def _settings(args: argparse.Namespace) -> AgentSettings:
    path = args.config or (Path(os.environ["SOCLE_AGENT_CONFIG"]) if os.environ.get("SOCLE_AGENT_CONFIG")
                           else None)
    settings = load_agent_settings(path)
    unknown = [n for n in settings.probes.enabled if n not in registry.PROBES]
    if unknown:
        raise ConfigError(f"{path}: probes.enabled: unknown probe(s) {', '.join(unknown)}; "
                          f"known: {', '.join(sorted(registry.PROBES))}")
    return settings


def _state(args: argparse.Namespace) -> AgentState:
    return AgentState(args.state_dir or default_state_dir())


def _context(settings: AgentSettings, url: str | None, state: AgentState) -> ProbeContext:
    http = requests.Session()
    http.verify = tls_verify(settings)
    privileged = has_net_raw()  # root, or the service's CAP_NET_RAW (agent/service.py)
    cred = state.credential()
    return ProbeContext(settings=settings, collector_url=url, http=http, privileged=privileged,
                        state_dir=state.root, credential=cred.token if cred is not None else None)


def cmd_enroll(args: argparse.Namespace, settings: AgentSettings, state: AgentState) -> int:
    """Trade the code for a credential and keep it."""
    identity = state.identity()
    # The machine enrolling holds the identity from now on: the collector learns it from this incarnation.
    client = CollectorClient(args.collector, timeout_s=settings.collector.timeout_s,
                             verify=tls_verify(settings),
                             incarnation=current_incarnation(identity.instance_id, state.root))
    try:
        # No live line here: the move question may wait for the technician's answer.
        resp = enroll_confirming(client, EnrollRequest(code=args.code, room=args.room, device=identity,
                                                       agent_version=__version__, role=args.role), args.yes)
    except CollectorError as exc:
        print(_("socle-agent: enrolment failed: {error}").format(error=exc), file=sys.stderr)
        return EXIT_UNREACHABLE if exc.unreachable else EXIT_USAGE
    except MoveRefused as exc:
        print(f"socle-agent: {exc}", file=sys.stderr)
        return EXIT_USAGE
    state.save_credential(Credential(collector_url=args.collector.rstrip("/"), agent_id=resp.agent_id,
                                     token=resp.token, school_uai=resp.school_uai,
                                     school_name=resp.school_name, room=resp.room))
    from_name = _(" (from this machine's hostname)") if args.room is None else ""
    role = _(", role {role}").format(role=resp.role) if resp.role else ""
    print(_("enrolled to {school} ({uai}), room {room}").format(school=resp.school_name, uai=resp.school_uai,
                                                                 room=resp.room) + from_name + role)
    print(_("credential kept in {path}").format(path=state.credential_path))
    return EXIT_PASS


def cmd_check(args: argparse.Namespace, settings: AgentSettings, state: AgentState) -> int:
    """Run, judge, print, send."""
    cred = state.credential()
    uai, room = school_and_room(cred, args.uai, args.room, no_send=args.no_send, command="check")
    profile, origin = judging_profile(settings, cred, offline=args.no_send)
    facts = judging_facts(state, settings, cred, uai, offline=args.no_send)
    ctx = _context(settings, collector_url(settings, cred), state)
    result = run_check(state, settings, ctx, profile, uai, room, for_terminal(), facts.facts)
    report = result.report
    unkept = None
    if not args.no_send:  # every report is on disk before any attempt to send it
        report, unkept = keep_report(state, settings, report)
        with contextlib.suppress(OSError):  # a full disk: the run log is the least of it
            record_run(state.root, "check", report.taken_at, "pass" if result.passed else "fail")
    if args.json:
        print(report.model_dump_json(indent=2))
    else:
        print(render_check(report, result.evaluation, result.passed))
        print(judged_with(profile, origin, facts.describe()))
    code = EXIT_PASS if result.passed else EXIT_FAIL
    if unkept is not None:
        return send_unkept(state, settings, report, unkept, "report")
    return code if args.no_send else send_kept(state, settings, report, code, "report")


def _sent_text(sent: FlushResult) -> str:
    text = f"{sent.stored} stored, {sent.duplicate} already there"
    if sent.refused:
        why = "; ".join(f"{rid}: {reason}" for rid, reason in sent.refused)
        text += f", {len(sent.refused)} refused ({why})"
    return text


def cmd_flush(args: argparse.Namespace, settings: AgentSettings, state: AgentState) -> int:
    """Send what the spool holds now, and say what was sent."""
    if state.credential() is None:
        raise UsageError(_("this agent is not enrolled: run 'socle-agent enroll' first"))
    with open_spool(state, settings) as spool:
        before = spool.stats().depth
        with during(_("sending to the collector")):
            sent = deliver(state, settings, spool, attempts=args.attempts, max_wait_s=args.max_wait)
    print(f"spool held {before} report(s): {_sent_text(sent)}; {sent.remaining} waiting")
    if sent.error is not None:
        print(f"socle-agent: {sent.error}", file=sys.stderr)
        if sent.unauthorised:
            print("  the collector refused this agent's credential (revoked?): enrol again with a new code",
                  file=sys.stderr)
        return delivery_exit(sent)
    return EXIT_PASS


def cmd_probe(args: argparse.Namespace, settings: AgentSettings, state: AgentState) -> int:
    """Run one probe alone."""
    try:
        spec = registry.get(args.name)
    except KeyError as exc:
        raise UsageError(str(exc.args[0])) from None
    cred = state.credential()
    ctx = _context(settings, collector_url(settings, cred), state)
    if args.server:
        ctx.options["server"] = args.server
    if args.record:
        ctx.options["record"] = args.record
    [result] = run_probes([spec], ctx, max(settings.probes.timeout_s, spec.default_timeout_s or 0.0),
                          for_terminal())
    if args.json:
        print(result.model_dump_json(indent=2))
    else:
        print(f"{result.probe}: {result.status.value} in {result.duration_s:.2f} s"
              + (f" — {result.reason}" if result.reason else ""))
        if result.measurement is not None:
            for key, value in result.measurement.model_dump(mode="json", exclude={"kind"}).items():
                if key == "missing":
                    for field, why in value.items():
                        print(f"  {field}: unavailable ({why})")
                elif value is not None:
                    shown = json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else value
                    print(f"  {key}: {shown}")
    return EXIT_PASS if result.status in (ProbeStatus.ok, ProbeStatus.degraded) else EXIT_FAIL


def cmd_status(args: argparse.Namespace, settings: AgentSettings, state: AgentState) -> int:
    """What this agent is and where it reports."""
    cred = state.credential()
    print(field(_("state directory:"), state.root))
    print(field(_("instance id:"), state.instance_id()))
    if cred is None:
        print(field(_("enrolment:"), _("not enrolled")))
    else:
        print(field(_("enrolment:"), _("{school} ({uai}), room {room}").format(
            school=cred.school_name, uai=cred.school_uai, room=cred.room)))
        print(field(_("collector:"), collector_url(settings, cred)))
    print(field(_("probes enabled:"), ", ".join(settings.probes.enabled)))
    for line in status_lines(state, settings):
        print(line)
    return EXIT_PASS


def cmd_run(args: argparse.Namespace, settings: AgentSettings, state: AgentState) -> int:
    """Run the schedule: nightly full check, light checks in school hours, spool delivery."""
    if state.credential() is None:
        raise UsageError(_("this agent is not enrolled: run 'socle-agent enroll' first"))
    return exec_daemon(state, settings, args.config, args.verbose)


def cmd_job(args: argparse.Namespace, settings: AgentSettings, state: AgentState) -> int:
    """One scheduled check, as 'run' starts it in a child process."""
    return run_job(state, settings, args.kind,
                   lambda: _context(settings, collector_url(settings, state.credential()), state))


def cmd_install_service(args: argparse.Namespace, settings: AgentSettings, state: AgentState) -> int:
    """Install this OS's service: systemd, Task Scheduler or launchd (agent/service_cmd.py)."""
    from agent.service_cmd import install_service  # only this command needs it

    return install_service(args, settings, state)


COMMANDS = {"enroll": cmd_enroll, "check": cmd_check, "probe": cmd_probe, "status": cmd_status,
            "wifi": cmd_wifi, "displays": cmd_displays, "survey": cmd_survey, "flush": cmd_flush,
            "run": cmd_run,
            "install-service": cmd_install_service, "job": cmd_job, "bundle": cmd_bundle}


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``socle-agent``: one line and a documented exit code for whatever goes wrong
    (agent/exits.py), and only printable text on the terminal, whatever the names it shows hold and
    whatever the console's encoding (config/terminal.py); in French on a French system (agent/i18n.py)."""
    early.release()
    safe_console()
    use_system_language()
    use_system_trust(current_os())
    with printable_output():
        try:
            return _main(argv)
        except KeyboardInterrupt:
            print(_("socle-agent: interrupted"), file=sys.stderr)
            return EXIT_INTERRUPTED
        except OSError as exc:  # a state directory or settings file that cannot be read or written
            where = f" ({exc.filename})" if exc.filename else ""
            print(f"socle-agent: {exc.strerror or exc}{where}", file=sys.stderr)
            return EXIT_USAGE
        except Exception as exc:  # the agent's own fault: one line here, the rest in the log
            log.info("unexpected failure", exc_info=True)
            first = (str(exc).strip().splitlines() or [""])[0][:300]
            print(_("socle-agent: internal error: {what} (run again with -v for the details)").format(
                what=f"{type(exc).__name__}: {first}"), file=sys.stderr)
            return EXIT_INTERNAL


def _main(argv: list[str] | None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    if getattr(args, "json", False) or args.command in ("wifi", "displays"):  # JSON their only format
        utf8_stdout()
    for name, default in (("state_dir", None), ("config", None), ("verbose", False)):
        if not hasattr(args, name):
            setattr(args, name, default)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not args.verbose:  # scapy logs each unsendable packet with a traceback; the probe says what failed
        logging.getLogger("scapy.runtime").setLevel(logging.CRITICAL)
    try:
        settings = _settings(args)
        return COMMANDS[args.command](args, settings, _state(args))
    except ConfigError as exc:
        print(_("socle-agent: configuration error:") + f"\n{exc}", file=sys.stderr)
        return EXIT_USAGE
    except ValidationError as exc:  # a value given on the command line that the wire contract refuses
        print(_("socle-agent: invalid value:") + f"\n{describe_validation_error('', exc).lstrip(': ')}",
              file=sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:
        print(_("socle-agent: {error}").format(error=exc), file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
