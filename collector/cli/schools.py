"""``socle-collector school``: add, set, list and import schools; their contracts; their Wi-Fi."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.cli.school_wifi import add_school_wifi_parser, run_school_wifi
from collector.db.models import School
from collector.errors import StoreError
from collector.schools.contracts import Contract, contracts_of, import_contracts, set_contract
from collector.schools.directory import DirectoryError
from collector.schools.importing import import_directory
from collector.schools.records import field_errors, update_school, upsert_school
from config.wire import SchoolPublic

EXIT_OK, EXIT_USAGE = 0, 2

# The options ``school add`` and ``school set`` share: (flag, field, help).
FIELD_OPTIONS = (
    ("--commune-code", "commune_code", "the commune's INSEE code (the directory's Code_commune, e.g. 35016)"),
    ("--departement", "departement", "the département's code (035, 2A, 971)"),
    ("--academie", "academie", "the académie's name (Rennes)"),
    ("--circonscription", "circonscription", "the inspection district's name, as the directory writes it"),
    ("--circonscription-code", "circonscription_code", "the inspection district's own UAI"),
    ("--email", "email", "the school's mailbox"),
)
COUNT_OPTIONS = (
    ("--pupils", "pupils", "the number of pupils"),
    ("--staff", "staff", "the number of staff"),
    ("--classes", "classes", "the number of classes, set by an admin: a later import does not replace it"),
)


def _fields(p: argparse.ArgumentParser, count: Callable[[str], int], required: bool) -> None:
    p.add_argument("--name", required=required, help="the school's name")
    p.add_argument("--commune", required=required, help="the commune's name")
    for flag, dest, text in FIELD_OPTIONS:
        p.add_argument(flag, dest=dest, help=text)
    for flag, dest, text in COUNT_OPTIONS:
        p.add_argument(flag, dest=dest, type=count, metavar="N", help=text)


def add_school_parser(sub: Any, common: argparse.ArgumentParser, uai: Callable[[str], str],
                      count: Callable[[str], int]) -> None:
    """``school add | set | list | import | contract | wifi``."""
    school = sub.add_parser("school", parents=[common],
                            help="add, set, import, list schools; their contracts, Wi-Fi names and hours")
    ssub = school.add_subparsers(dest="school_command", required=True, metavar="ACTION")
    add = ssub.add_parser("add", parents=[common], help="add a school, or update it")
    add.add_argument("uai", type=uai, help="the school's UAI, e.g. 0350122T")
    _fields(add, count, required=True)
    st = ssub.add_parser("set", parents=[common], help="change some fields of a known school")
    st.add_argument("uai", type=uai, help="the school's UAI")
    _fields(st, count, required=False)
    st.add_argument("--clear-classes", action="store_true",
                    help="forget the class count (the next import with a count file sets it)")
    ssub.add_parser("list", parents=[common], help="list the schools")
    imp = ssub.add_parser("import", parents=[common],
                          help="import the 'Annuaire de l'éducation' open-data export (CSV or JSON)")
    imp.add_argument("file", type=Path, help="the directory export (semicolon CSV or JSON)")
    imp.add_argument("--pupils", type=Path, metavar="FILE",
                     help="pupil and class counts to join (the 'ecoles-effectifs-nb_classes' CSV)")
    imp.add_argument("--all", action="store_true", dest="every_kind",
                     help="import every row: collèges, lycées, services and closing schools too "
                          "(default: open primary schools only)")
    _contract_parser(ssub, common, uai)
    add_school_wifi_parser(ssub, common, uai)


def _contract_parser(ssub: Any, common: argparse.ArgumentParser, uai: Callable[[str], str]) -> None:
    c = ssub.add_parser("contract", parents=[common], help="the schools' internet contracts")
    csub = c.add_subparsers(dest="contract_command", required=True, metavar="ACTION")
    imp = csub.add_parser("import", parents=[common], help="import contracts from a CSV (docs/dashboard.md)")
    imp.add_argument("file", type=Path, help="uai;provider;technology;download_mbps;upload_mbps")
    st = csub.add_parser("set", parents=[common], help="set one school's contract")
    st.add_argument("uai", type=uai, help="the school's UAI")
    st.add_argument("--provider", required=True, help="the internet provider")
    st.add_argument("--technology", required=True, help="fibre, copper (ADSL, VDSL), 4G/5G or satellite")
    st.add_argument("--download", required=True, metavar="MBPS", help="contracted download, Mbit/s")
    st.add_argument("--upload", required=True, metavar="MBPS", help="contracted upload, Mbit/s")
    csub.add_parser("list", parents=[common], help="list the contracts")


def _changes(args: argparse.Namespace) -> dict[str, Any]:
    names = ["name", "commune", *(d for _, d, _ in FIELD_OPTIONS), *(d for _, d, _ in COUNT_OPTIONS)]
    out = {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}
    if getattr(args, "clear_classes", False):
        out["classes"] = None
    return out


def _add(session: Session, args: argparse.Namespace, now: datetime) -> int:
    try:
        school = SchoolPublic.model_validate({"uai": args.uai, **_changes(args)})
    except ValidationError as exc:
        print(f"socle-collector: {field_errors(exc)}", file=sys.stderr)
        return EXIT_USAGE
    created = upsert_school(session, school, now)
    session.commit()
    print(f"{'added' if created else 'updated'} {school.uai} {school.name} ({school.commune})")
    return EXIT_OK


def _set(session: Session, args: argparse.Namespace, now: datetime) -> int:
    changes = _changes(args)
    if not changes:
        print("socle-collector: nothing to change: give at least one option (see --help)", file=sys.stderr)
        return EXIT_USAGE
    row = update_school(session, args.uai, changes, now)
    session.commit()
    classes = "" if row.classes is None else f"; {row.classes} classes ({row.classes_origin})"
    print(f"updated {row.uai} {row.name} ({row.commune}): {', '.join(sorted(changes))}{classes}")
    return EXIT_OK


def _import(session: Session, args: argparse.Namespace, now: datetime) -> int:
    try:
        result = import_directory(session, args.file, now, args.pupils, args.every_kind)
    except (DirectoryError, OSError) as exc:
        print(f"socle-collector: cannot import {args.file}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    session.commit()
    for p in result.errors:
        print(f"line {p.line}: skipped: {p.message}", file=sys.stderr)
    for p in result.duplicates:
        print(f"line {p.line}: {p.message}", file=sys.stderr)
    print(result.summary())
    return EXIT_OK


def _contract(session: Session, args: argparse.Namespace, now: datetime) -> int:
    if args.contract_command == "list":
        for c in contracts_of(session).values():
            rates = f"{c.download_mbps:g}/{c.upload_mbps:g} Mbit/s"
            print(f"{c.school_uai}\t{c.provider}\t{c.technology}\t{rates}\t{c.source}")
        return EXIT_OK
    if args.contract_command == "set":
        try:
            contract = Contract.model_validate({"uai": args.uai, "provider": args.provider,
                                                "technology": args.technology, "download_mbps": args.download,
                                                "upload_mbps": args.upload})
        except ValidationError as exc:
            print(f"socle-collector: {field_errors(exc)}", file=sys.stderr)
            return EXIT_USAGE
        if session.get(School, contract.uai) is None:
            raise StoreError(404, f"no school {contract.uai} in this collector")
        what = set_contract(session, contract, "admin", now)
        session.commit()
        print(f"{what} the contract of {contract.uai}: {contract.provider}, {contract.technology.value}, "
              f"{contract.download_mbps:g}/{contract.upload_mbps:g} Mbit/s")
        return EXIT_OK
    try:
        result = import_contracts(session, args.file, now)
    except (DirectoryError, OSError) as exc:
        print(f"socle-collector: cannot import {args.file}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    session.commit()
    for p in result.errors:
        print(f"line {p.line}: skipped: {p.message}", file=sys.stderr)
    print(f"{result.rows} rows: {result.added} added, {result.updated} updated, "
          f"{result.unchanged} unchanged, {len(result.errors)} bad rows")
    return EXIT_OK


def _list(session: Session) -> int:
    for row in session.scalars(select(School).order_by(School.uai)):
        extra = "" if row.pupils is None else f"\t{row.pupils} pupils"
        extra += "" if row.classes is None else f"\t{row.classes} classes"
        code = f" ({row.commune_code})" if row.commune_code else ""
        print(f"{row.uai}\t{row.name}\t{row.commune}{code}{extra}")
    return EXIT_OK


def run_school(session: Session, args: argparse.Namespace, now: datetime) -> int:
    """Do one ``school`` action; its exit code."""
    action = args.school_command
    if action == "add":
        return _add(session, args, now)
    if action == "set":
        return _set(session, args, now)
    if action == "import":
        return _import(session, args, now)
    if action == "contract":
        return _contract(session, args, now)
    if action == "wifi":
        print(run_school_wifi(session, args, now))
        return EXIT_OK
    return _list(session)
