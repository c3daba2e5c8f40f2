"""``socle-collector``: serve the API and administer schools, codes and tokens."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.exc import InterfaceError, OperationalError

from collector.auth.access import ROLES
from collector.auth.credentials import create_api_token
from collector.cli.alerts import add_alert_parser, run_alert
from collector.cli.enroll_codes import add_enroll_code_parser, run_enroll_code
from collector.cli.equipment import add_equipment_parsers, run_agent, run_equipment
from collector.cli.report_text import render_school
from collector.cli.schools import add_school_parser, run_school
from collector.cli.tokens import add_token_admin_parsers, run_token_admin
from collector.dashboard.rule_words import share_minimums
from collector.db.engine import DatabaseUrlError, create_schema, make_engine, session_factory
from collector.db.paths import database_url, resolve_settings
from collector.errors import StoreError
from collector.judge.school import school_readiness
from collector.schools.records import get_school
from config.collector_settings import CollectorSettings, load_collector_settings
from config.loading import ConfigError
from config.profile import load_profile
from config.terminal import printable_output
from config.uai import UaiError, validate_uai
from config.wire import utcnow

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # Ctrl-C, as a shell reports it


def _uai(value: str) -> str:
    try:
        return validate_uai(value)
    except UaiError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"{value} must not be negative")
    return n


def build_parser() -> argparse.ArgumentParser:
    """The command line, with help for every command."""
    # Options accepted before or after the command; SUPPRESS keeps a subcommand's
    # unset option from overwriting one given before it.
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument("--db", metavar="URL", help="SQLAlchemy database URL (env SOCLE_DB_URL); "
                        "default: SQLite in the data directory")
    common.add_argument("--config", metavar="FILE", type=Path,
                        help="settings file (env SOCLE_COLLECTOR_CONFIG)")
    common.add_argument("--data-dir", metavar="DIR", type=Path,
                        help="data directory (env SOCLE_COLLECTOR_HOME)")
    common.add_argument("-v", "--verbose", action="store_true", help="log more")

    p = argparse.ArgumentParser(prog="socle-collector", parents=[common],
                                description="Socle's collector: stores agents' reports and judges schools.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _serving_parsers(sub, common)
    add_school_parser(sub, common, _uai, _positive_int)
    add_enroll_code_parser(sub, common)
    _token_parser(sub, common)
    add_alert_parser(sub, common, _positive_int)
    add_equipment_parsers(sub, common, _uai)
    rep = sub.add_parser("report", parents=[common], help="print a school's verdict and the rules behind it")
    rep.add_argument("uai", type=_uai, help="the school's UAI")
    rep.add_argument("--json", action="store_true", help="print JSON instead of text")
    return p


def _serving_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    """``serve``, ``migrate`` and ``evaluate``."""
    s = sub.add_parser("serve", parents=[common], help="serve the API, the ndt7 test and the dashboard")
    s.add_argument("--host", help="address to listen on (default from settings: 127.0.0.1)")
    s.add_argument("--port", type=int, help="port to listen on (default from settings: 8470)")
    s.add_argument("--workers", type=int, help="worker processes (default from settings: 1)")
    s.add_argument("--cert", type=Path, help="TLS certificate chain (PEM): serve HTTPS directly")
    s.add_argument("--key", type=Path, help="the certificate's private key (PEM)")
    s.add_argument("--log-format", choices=("text", "json"), help="log lines as text or JSON")

    mig = sub.add_parser("migrate", parents=[common],
                         help="bring the database schema to the newest version (serve does it too)")
    mig.add_argument("--check", action="store_true",
                     help="only report whether the models and the migrations agree (exit 1 if not)")

    ev = sub.add_parser("evaluate", parents=[common],
                        help="judge again the schools whose stored verdict is out of date (serve does too)")
    ev.add_argument("--all", action="store_true", help="judge every school, not only out of date ones")
    ev.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    ev.add_argument("--from-sets", action="store_true",
                    help="judge from every school's sample sets, not from the columns the sweep kept "
                         "(they are kept again)")

    pur = sub.add_parser("purge", parents=[common],
                         help="apply the retention: reports older than retention.report_days (default 90) "
                              "reduced to daily aggregates, neighbours' SSIDs/BSSIDs dropped after "
                              "retention.neighbour_networks_days (default 7); see docs/privacy.md",
                         description="Apply the retention settings (the [retention] table of the settings "
                                     "file) to every school, and print what was removed. serve runs it "
                                     "every night at retention.nightly_at.")
    pur.add_argument("--dry-run", action="store_true", help="count what would be removed, remove nothing")
    pur.add_argument("--all", action="store_true",
                     help="look for neighbours' Wi-Fi names in every report kept, not only in those that "
                          "aged past the cut-off since the last purge (for reports delivered days late)")


def _token_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """``token create | list | revoke``."""
    tok = sub.add_parser("token", parents=[common], help="API tokens for readers and admins")
    tsub = tok.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    tc = tsub.add_parser("create", parents=[common], help="make a token (printed on the last line)")
    tc.add_argument("--role", choices=ROLES, required=True, help="reader, technician or admin")
    tc.add_argument("--scope", default="all",
                    help="what it may read (default: all): commune:<INSEE code>, 'commune:<name> (<dép.>)', "
                         "circonscription:<UAI>, 'circonscription:<name> (<dép.>)', departement:<code>, "
                         "academie:<name>")
    tc.add_argument("--label", help="who or what the token is for")
    tc.add_argument("--expires-days", type=float, help="expire after this many days (default: never)")
    add_token_admin_parsers(tsub, common)


def _settings(args: argparse.Namespace) -> CollectorSettings:
    path = args.config or (Path(os.environ["SOCLE_COLLECTOR_CONFIG"])
                           if os.environ.get("SOCLE_COLLECTOR_CONFIG") else None)
    return resolve_settings(load_collector_settings(path), args.db, args.data_dir)


def _serve(args: argparse.Namespace, settings: CollectorSettings) -> int:
    from collector.cli.serve import serve
    from collector.edge.logs import setup_logging

    given = {"host": args.host, "port": args.port, "workers": args.workers, "tls_cert": args.cert,
             "tls_key": args.key, "log_format": args.log_format}
    settings = CollectorSettings.model_validate(
        {**settings.model_dump(), **{k: v for k, v in given.items() if v is not None}})
    setup_logging(settings.log_format, args.verbose)
    try:
        serve(settings, verbose=args.verbose)
    except ValueError as exc:
        print(f"socle-collector: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # the address: in use, or not this machine's (a file: its name too)
        said = exc.strerror if exc.strerror and not exc.filename else exc
        print(f"socle-collector: {said}", file=sys.stderr)
        return EXIT_FAIL
    return EXIT_OK


def _migrate(args: argparse.Namespace, settings: CollectorSettings) -> int:
    from collector.db.migrations import current_revision, pending_changes, upgrade

    engine = make_engine(database_url(settings))
    if not args.check:
        upgrade(engine)
    with engine.connect() as conn:
        revision = current_revision(conn)
    print(f"database at revision {revision or 'none'}")
    if args.check:
        diffs = pending_changes(engine)
        for diff in diffs:
            print(f"not in the migrations: {diff}")
        return EXIT_FAIL if diffs else EXIT_OK
    return EXIT_OK


def _evaluate(args: argparse.Namespace, settings: CollectorSettings) -> int:
    from collector.judge.history import record_evidence
    from collector.judge.sweep import sweep

    engine = make_engine(database_url(settings))
    create_schema(engine)
    profile = load_profile(settings.profile_path)
    result = sweep(engine, profile, utcnow(), everything=args.all,
                   jobs=max(1, args.jobs), use_kept=not args.from_sets)
    if not result.ran:
        print("another process is sweeping: nothing done", file=sys.stderr)
        return EXIT_FAIL
    print(f"judged {result.judged} school(s) in {result.seconds:.2f} s")
    recorded = 0
    while n := record_evidence(engine, profile):  # the evidence of the changes it found
        recorded += n
    if recorded:
        print(f"recorded the evidence of {recorded} verdict change(s)")
    return EXIT_OK


def _purge(args: argparse.Namespace, settings: CollectorSettings) -> int:
    from collector.retention.purge import describe, purge

    engine = make_engine(database_url(settings))
    create_schema(engine)
    counts = purge(engine, settings.retention, load_profile(settings.profile_path), utcnow(),
                   dry_run=args.dry_run, everything=args.all)
    print(("dry run: nothing removed\n" if args.dry_run else "") + describe(counts, args.dry_run))
    return EXIT_OK


def _admin(args: argparse.Namespace, settings: CollectorSettings) -> int:
    engine = make_engine(database_url(settings))
    create_schema(engine)
    now = utcnow()
    with session_factory(engine)() as session:
        if args.command == "school":
            return run_school(session, args, now)
        elif args.command == "equipment":
            return run_equipment(session, args, now)
        elif args.command == "agent":
            return run_agent(session, args)
        elif args.command == "enroll-code":
            print(run_enroll_code(session, args, settings, now))
        elif args.command == "token" and args.token_command != "create":
            print(run_token_admin(session, args, now))
        elif args.command == "token":
            expiry = None if args.expires_days is None else timedelta(days=args.expires_days)
            token = create_api_token(session, args.role, now, args.scope, args.label, expiry)
            session.commit()
            print(f"{args.role} token (shown once; keep it secret):")
            print(token)
        elif args.command == "alert":
            print(run_alert(engine, session, args, settings.alerts, now))
        elif args.command == "report":
            profile = load_profile(settings.profile_path)
            school = get_school(session, args.uai)
            readiness = school_readiness(session, school, profile, now)
            print(readiness.model_dump_json(indent=2) if args.json
                  else render_school(readiness, share_minimums(profile)))
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``socle-collector``: what it prints is text, whatever the names it shows hold."""
    with printable_output():
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    for name, default in (("db", None), ("config", None), ("data_dir", None), ("verbose", False)):
        if not hasattr(args, name):
            setattr(args, name, default)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = _settings(args)
        if args.command == "serve":
            return _serve(args, settings)
        if args.command == "migrate":
            return _migrate(args, settings)
        if args.command == "evaluate":
            return _evaluate(args, settings)
        if args.command == "purge":
            return _purge(args, settings)
        return _admin(args, settings)
    except ConfigError as exc:
        print(f"socle-collector: configuration error:\n{exc}", file=sys.stderr)
        return EXIT_USAGE
    except StoreError as exc:
        print(f"socle-collector: {exc.message}", file=sys.stderr)
        return EXIT_FAIL if exc.status == 404 else EXIT_USAGE
    except DatabaseUrlError as exc:
        print(f"socle-collector: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (OperationalError, InterfaceError) as exc:  # the database is down, refuses us, or is no file
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        print(f"socle-collector: the database does not answer: {reason}", file=sys.stderr)
        return EXIT_FAIL
    except OSError as exc:  # a data directory that cannot be made, a file that cannot be read
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"socle-collector: {exc.strerror or exc}{where}", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        print("socle-collector: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
