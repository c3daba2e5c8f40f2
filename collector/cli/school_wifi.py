"""``socle-collector school wifi UAI``: set or show a school's SSIDs and teaching hours (W1)."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from collector.db.models import SchoolWifi
from collector.schools.records import get_school
from collector.wifi.school import set_school_wifi
from config.compliance import DEFAULT_HOURS, DEFAULT_TIMEZONE


def add_school_wifi_parser(ssub: Any, common: argparse.ArgumentParser, uai_type: Any) -> None:
    """Register ``school wifi UAI [--ssid NAME ...] [--hours TEXT] [--timezone TZ]``."""
    w = ssub.add_parser("wifi", parents=[common],
                        help="set or show the school's own SSIDs and teaching hours (loi Abeille check)")
    w.add_argument("uai", type=uai_type)
    w.add_argument("--ssid", action="append", metavar="NAME",
                   help="one of the school's own SSIDs (repeat for several; replaces the list)")
    w.add_argument("--hours", metavar="TEXT",
                   help=f"teaching hours, e.g. 'mon-fri 08:30-16:30' (default {DEFAULT_HOURS!r})")
    w.add_argument("--timezone", metavar="TZ", help=f"the school's time zone (default {DEFAULT_TIMEZONE})")


def _show(row: SchoolWifi | None, uai: str) -> str:
    if row is None:
        return f"{uai}: no Wi-Fi settings (the loi Abeille check needs the school's SSIDs)"
    return (f"{uai}: SSIDs {', '.join(row.ssids) or '(none)'}; teaching hours {row.teaching_hours} "
            f"({row.timezone})")


def run_school_wifi(session: Session, args: argparse.Namespace, now: datetime) -> str:
    """Apply the command and say what the school's settings now are."""
    school = get_school(session, args.uai)
    row = session.get(SchoolWifi, school.uai)
    if args.ssid is None and args.hours is None and args.timezone is None:
        return _show(row, school.uai)
    ssids = args.ssid if args.ssid is not None else (row.ssids if row else [])
    row = set_school_wifi(session, school, ssids, args.hours, args.timezone, now)
    session.commit()
    return _show(row, school.uai)
