"""``socle-collector equipment``: declare, list and import equipment; ``socle-collector agent``: the
enrolled machines and their roles."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.db.engine import as_utc
from collector.db.models import AgentRow
from collector.equipment.declared import ItemDeclaration, declared_items, import_items, remove_item, set_item
from collector.errors import StoreError
from collector.schools.directory import DirectoryError
from collector.schools.records import field_errors, get_school
from config.equipment import Item, item_of
from config.wire import DEVICE_ROLES

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
ITEMS_HELP = ("projector, interactive_display, interactive_whiteboard, teacher_computer, tablet, laptop, "
              "mdm, charging_cabinet (French names too: vidéoprojecteur, TBI, VPI, ENI, tablette, "
              "armoire de recharge)")


def _item(value: str) -> Item:
    try:
        return item_of(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_equipment_parsers(sub: Any, common: argparse.ArgumentParser, uai: Callable[[str], str]) -> None:
    """``equipment set | remove | list | import`` and ``agent list | role``."""
    eq = sub.add_parser("equipment", parents=[common],
                        help="declare what no agent sees: projectors, tablets, MDM, charging cabinet")
    esub = eq.add_subparsers(dest="equipment_command", required=True, metavar="ACTION")
    st = esub.add_parser("set", parents=[common],
                         help="declare how many of an item a room (or the school) has")
    st.add_argument("uai", type=uai, help="the school's UAI")
    st.add_argument("--room", default="", help="the room, as its agents name it (default: the school as a "
                                              "whole, e.g. a projector on a cart, the tablets, the MDM)")
    st.add_argument("--item", required=True, type=_item, help=ITEMS_HELP)
    st.add_argument("--count", required=True, type=int, help="how many in all; 0 declares there is none")
    st.add_argument("--note", help="a remark shown with the declaration")
    st.add_argument("--by", help="who declares it (default: the user running the command)")
    rm = esub.add_parser("remove", parents=[common], help="forget a declaration")
    rm.add_argument("uai", type=uai, help="the school's UAI")
    rm.add_argument("--room", default="", help="the room (default: the school as a whole)")
    rm.add_argument("--item", required=True, type=_item, help=ITEMS_HELP)
    ls = esub.add_parser("list", parents=[common], help="list the declarations")
    ls.add_argument("uai", type=uai, nargs="?", help="one school (default: every school)")
    imp = esub.add_parser("import", parents=[common],
                          help="import declarations from a CSV (docs/dashboard.md)")
    imp.add_argument("file", type=Path, help="uai;room;item;count;note, one line per room and item")
    imp.add_argument("--by", help="who declares them (default: the user running the command)")

    ag = sub.add_parser("agent", parents=[common], help="the enrolled machines and their roles")
    asub = ag.add_subparsers(dest="agent_command", required=True, metavar="ACTION")
    al = asub.add_parser("list", parents=[common], help="list a school's machines (id, room, host, role)")
    al.add_argument("uai", type=uai, help="the school's UAI")
    ar = asub.add_parser("role", parents=[common], help="set what a machine is for")
    ar.add_argument("agent_id", help="the agent's id (see 'agent list')")
    ar.add_argument("role", choices=(*DEVICE_ROLES, "none"),
                    help="teacher, pupil, mobile, shared, or none to unsay it")


def _by(args: argparse.Namespace) -> str:
    if getattr(args, "by", None):
        return str(args.by)
    try:
        return f"{getpass.getuser()} (command line)"
    except (KeyError, OSError):  # no user name in this environment
        return "command line"


def _set(session: Session, args: argparse.Namespace, now: datetime) -> int:
    try:
        d = ItemDeclaration.model_validate({"uai": args.uai, "room": args.room, "item": args.item,
                                            "count": args.count, "note": args.note})
    except ValidationError as exc:
        print(f"socle-collector: {field_errors(exc)}", file=sys.stderr)
        return EXIT_USAGE
    what, room = set_item(session, d, _by(args), "command line", now)
    session.commit()
    print(f"{what}: {d.uai} {room or '(school)'}: {d.item.value} × {d.count}")
    return EXIT_OK


def _import(session: Session, args: argparse.Namespace, now: datetime) -> int:
    try:
        result = import_items(session, args.file, _by(args), now)
    except (DirectoryError, OSError) as exc:
        print(f"socle-collector: cannot import {args.file}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    session.commit()
    for p in result.errors:
        print(f"line {p.line}: skipped: {p.message}", file=sys.stderr)
    print(f"{result.rows} rows: {result.added} added, {result.updated} updated, "
          f"{result.unchanged} unchanged, {len(result.errors)} bad rows")
    return EXIT_OK


def run_equipment(session: Session, args: argparse.Namespace, now: datetime) -> int:
    """Do one ``equipment`` action; its exit code."""
    action = args.equipment_command
    if action == "set":
        return _set(session, args, now)
    if action == "import":
        return _import(session, args, now)
    if action == "remove":
        found = remove_item(session, args.uai, args.room, args.item)
        session.commit()
        where = args.room.strip() or "(school)"
        print(("removed" if found else "nothing declared") + f": {args.uai} {where}: {args.item.value}")
        return EXIT_OK if found else EXIT_FAIL
    if args.uai is not None:
        get_school(session, args.uai)
    for row in declared_items(session, args.uai):
        note = f"\t{row.note}" if row.note else ""
        print(f"{row.school_uai}\t{row.room or '(school)'}\t{row.item}\t{row.count}\t"
              f"{row.declared_by}\t{as_utc(row.declared_at).isoformat()}\t{row.source}{note}")
    return EXIT_OK


def run_agent(session: Session, args: argparse.Namespace) -> int:
    """Do one ``agent`` action; its exit code."""
    if args.agent_command == "list":
        school = get_school(session, args.uai)
        for a in session.scalars(select(AgentRow).where(AgentRow.school_uai == school.uai)
                                 .order_by(AgentRow.room, AgentRow.hostname)):
            seen = as_utc(a.last_seen_at).isoformat() if a.last_seen_at else "never"
            revoked = "\trevoked" if a.revoked_at else ""
            print(f"{a.agent_id}\t{a.room}\t{a.hostname}\t{a.role or '-'}\t{seen}{revoked}")
        return EXIT_OK
    row = session.get(AgentRow, args.agent_id.strip().lower())
    if row is None:
        raise StoreError(404, f"no agent {args.agent_id} in this collector (see 'agent list UAI')")
    row.role = None if args.role == "none" else args.role
    row.equipment_changes += 1  # the equipment pages judge its school again
    session.commit()
    print(f"agent {row.agent_id} ({row.hostname}, {row.room}): role {row.role or 'unsaid'}")
    return EXIT_OK
