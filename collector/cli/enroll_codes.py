"""``socle-collector enroll-code``: make a school's enrolment code; list codes, show one's uses, revoke one.

    socle-collector enroll-code 0350122T                     one use, valid 72 h (the settings' default)
    socle-collector enroll-code 0350122T --uses 30 --expires 7d --room-pattern '^(?P<room>[A-Z0-9]+)-PC\\d+$'
    socle-collector enroll-code list [UAI]
    socle-collector enroll-code show ID                      every use: agent, when, host, address
    socle-collector enroll-code revoke ID
"""

from __future__ import annotations

import argparse
import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from collector.auth.enrolment import (
    code_id,
    code_uses,
    create_code,
    find_code,
    list_codes,
    revoke_code,
    why_not_live,
)
from collector.db.engine import as_utc
from collector.db.models import EnrollCode
from collector.errors import StoreError
from config.collector_settings import CollectorSettings
from config.uai import UaiError, validate_uai

ACTIONS = ("list", "show", "revoke")
_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

HELP = """\
An enrolment code enrols machines to one school. By default it is good for one machine
(--uses 1) for the settings' enroll_code_ttl_hours (72 h). For a room's worth of PCs give
--uses 30 --expires 7d: every machine enrols with the same code until its uses are spent,
it expires or it is revoked; each use is logged (see 'enroll-code show ID').

A machine enrolled without --room gets its room from its hostname, by a regular expression
with a (?P<room>...) group: --room-pattern '^(?P<room>[A-Z0-9]+)-PC\\d+$' puts CM1-PC03 in room
CM1. Without --room-pattern a code carries the settings' enroll_room_pattern, if any;
prefix (?i) to match lower-case hostnames too.

--qr prints, above the code, a QR code of the browser speed test page with the code filled
in (for tablets that cannot run the agent; each test spends one use). The page's address is
--url, else the settings' public_url.

Actions: 'enroll-code list [UAI]', 'enroll-code show ID', 'enroll-code revoke ID'
(ID as 'list' shows it)."""


def parse_duration(text: str) -> timedelta:
    """``7d``, ``12h``, ``90m``, ``2w`` (a bare number is hours) as a duration; ValueError otherwise.

    >>> parse_duration("7d")
    datetime.timedelta(days=7)
    """
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([mhdw]?)\s*", text.lower())
    if found is None:
        raise ValueError(f"{text!r} is not a duration: give e.g. 7d, 12h, 90m or 2w")
    value = float(found.group(1)) * _UNITS[found.group(2) or "h"]
    if value <= 0:
        raise ValueError(f"{text!r}: a code must be valid for some time")
    return timedelta(seconds=value)


def _duration(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _uses(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError("a code has at least 1 use")
    return n


def add_enroll_code_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """``enroll-code UAI [options]`` and its actions ``list``, ``show``, ``revoke``."""
    code = sub.add_parser("enroll-code", parents=[common], description=HELP,
                          formatter_class=argparse.RawDescriptionHelpFormatter,
                          help="make a school's enrolment code (printed last); list, show, revoke")
    code.add_argument("target", metavar="UAI|list|show|revoke",
                      help="the school's UAI to make a code for, or an action")
    code.add_argument("ident", nargs="?", metavar="ID|UAI",
                      help="for show and revoke: the code's id; for list: a school's UAI (optional)")
    code.add_argument("--uses", type=_uses, default=1, help="how many machines it may enrol (default 1)")
    code.add_argument("--expires", type=_duration, metavar="DURATION",
                      help="how long it is valid: 7d, 12h, 90m, 2w (default: the settings' 72 h)")
    code.add_argument("--ttl-hours", type=float, help=argparse.SUPPRESS)  # the older spelling of --expires
    code.add_argument("--room-pattern", metavar="REGEX",
                      help="the room of a machine enrolled without --room, from its hostname: a regular "
                           "expression with a (?P<room>...) group (default: settings' enroll_room_pattern)")
    code.add_argument("--label", help="what the code is for, shown in 'enroll-code list'")
    code.add_argument("--qr", action="store_true",
                      help="also print a QR code of the browser speed test page with this code")
    code.add_argument("--qr-svg", metavar="FILE", help="also write that QR code to FILE as SVG")
    code.add_argument("--url",
                      help="the collector's address as tablets reach it (default: the settings' public_url)")


def _when(value: datetime | None) -> str:
    return "-" if value is None else as_utc(value).strftime("%Y-%m-%d %H:%M")


def _state(row: EnrollCode, now: datetime) -> str:
    why = why_not_live(row, now)
    if why is None:
        return "live"
    return "revoked" if row.revoked_at is not None else ("used up" if row.uses >= row.max_uses else "expired")


def _list(session: Session, uai: str | None, now: datetime) -> str:
    rows = list_codes(session, uai)
    if not rows:
        return "no enrolment codes" + (f" for {uai}" if uai else "")
    lines = [f"{'ID':<12}  {'SCHOOL':<8}  {'USES':>9}  {'EXPIRES (UTC)':<16}  {'STATE':<7}  "
             "ROOMS FROM HOSTNAME / LABEL"]
    for r in rows:
        extra = " / ".join(x for x in (r.room_pattern, r.label) if x) or "-"
        lines.append(f"{code_id(r):<12}  {r.school_uai:<8}  {f'{r.uses}/{r.max_uses}':>9}  "
                     f"{_when(r.expires_at):<16}  {_state(r, now):<7}  {extra}")
    return "\n".join(lines)


def _show(session: Session, ident: str, now: datetime) -> str:
    row = find_code(session, ident)
    lines = [f"code {code_id(row)} for {row.school_uai}: {row.uses} of {row.max_uses} use(s), made "
             f"{_when(row.created_at)}, expires {_when(row.expires_at)}, {_state(row, now)}"]
    if row.room_pattern:
        lines.append(f"rooms from hostnames by {row.room_pattern}")
    uses = code_uses(session, row)
    lines.append("uses:" if uses else "no use yet")
    for u in uses:
        moved = f"  (moved from {u.moved_from})" if u.moved_from else ""
        lines.append(f"  {_when(u.used_at)}  agent {u.agent_id}  host {u.hostname}  room {u.room}  "
                     f"from {u.address or 'unknown address'}{moved}")
    return "\n".join(lines)


def _school_arg(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return validate_uai(value)
    except UaiError as exc:
        raise StoreError(422, str(exc)) from None


def run_enroll_code(session: Session, args: argparse.Namespace, settings: CollectorSettings,
                    now: datetime) -> str:
    """Do one ``enroll-code`` command; returns the text to print (a new code on its last line)."""
    if args.target in ACTIONS:
        if args.target == "list":
            return _list(session, _school_arg(args.ident), now)
        if args.ident is None:
            raise StoreError(422, f"'enroll-code {args.target}' needs the code's id ('enroll-code list')")
        if args.target == "show":
            return _show(session, args.ident, now)
        row = revoke_code(session, args.ident, now)
        session.commit()
        return (f"revoked code {code_id(row)} of {row.school_uai} ({row.uses} of {row.max_uses} use(s) "
                "spent); it enrols nothing more, the machines it enrolled keep their credentials")
    uai = _school_arg(args.target)
    assert uai is not None
    if args.ident is not None:
        raise StoreError(422, f"unexpected {args.ident!r} after the UAI")
    ttl = args.expires or timedelta(hours=args.ttl_hours or settings.enroll_code_ttl_hours)
    pattern = args.room_pattern if args.room_pattern is not None else settings.enroll_room_pattern
    code = create_code(session, uai, now, ttl, uses=args.uses, room_pattern=pattern or None, label=args.label)
    session.commit()
    hours = ttl.total_seconds() / 3600
    valid = f"{hours / 24:g} days" if hours >= 48 else f"{hours:g} h"
    kind = "one-time enrolment code" if args.uses == 1 else f"enrolment code for {args.uses} machines"
    lines = [f"{kind} for {uai}, valid {valid} (until {_when(now + ttl)} UTC)"]
    if pattern:
        lines.append(f"machines enrolled without --room get their room from their hostname by {pattern}")
    lines += _qr_lines(args, settings, code)
    lines.append(code)
    return "\n".join(lines)


def _qr_lines(args: argparse.Namespace, settings: CollectorSettings, code: str) -> list[str]:
    """The speed-test QR code, printed and/or written as SVG, when asked for."""
    if not (args.qr or args.qr_svg):
        return []
    from collector.auth.code_qr import qr_svg, qr_terminal, speedtest_url

    base = args.url or settings.public_url
    if not base:
        raise StoreError(422, "--qr needs the collector's address as tablets reach it: give --url "
                              "https://collector.example/ or set public_url in the settings")
    url = speedtest_url(base, code)
    lines = [f"browser speed test for tablets: {url}"]
    if args.qr_svg:
        with open(args.qr_svg, "w", encoding="utf-8") as fh:
            fh.write(qr_svg(url))
        lines.append(f"QR code written to {args.qr_svg}")
    if args.qr:
        lines.append(qr_terminal(url))
    return lines
