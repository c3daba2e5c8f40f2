"""``socle-collector alert add | list | remove | log | retry | send``: who is told of changes of level."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from collector.alerts.deliver import retry
from collector.alerts.run import alert_turn
from collector.alerts.subscriptions import add_subscription, list_subscriptions, remove_subscription
from collector.db.alert_tables import AlertDelivery, AlertOutbox, AlertSubscription
from config.collector_settings import AlertSettings

HELP = """Alerts tell an API token's holder when a school in a scope changes level (drops below base,
recovers, goes silent, is heard again): by e-mail (through [alerts.smtp] in the settings) or by a
webhook (JSON, signed with HMAC-SHA256: docs/deployment.md), at once or in a daily digest. The
serving collector plans and delivers them after each sweep, every minute; 'alert send' does it once."""


def add_alert_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser,
                     positive: Callable[[str], int]) -> None:
    """The ``alert`` command and its actions."""
    al = sub.add_parser("alert", parents=[common], description=HELP,
                        help="subscriptions to changes of level, and their deliveries")
    asub = al.add_subparsers(dest="alert_command", required=True, metavar="ACTION")
    add = asub.add_parser("add", parents=[common], help="subscribe an API token's holder to a scope",
                          description=HELP)
    add.add_argument("--token", required=True, metavar="TOKEN_ID",
                     help="the API token it belongs to, by id ('token list'); "
                          "it is told only what the token may read")
    add.add_argument("--scope", default="all",
                     help="which schools (default: all): commune:<INSEE code>, circonscription:<UAI>, "
                          "departement:<code>, academie:<name>, as for 'token create'")
    to = add.add_mutually_exclusive_group(required=True)
    to.add_argument("--email", metavar="ADDRESS", help="send e-mails to this address")
    to.add_argument("--webhook", metavar="URL",
                    help="POST JSON to this URL (the signing secret is printed once)")
    add.add_argument("--digest", action="store_true",
                     help="one message a day at digest_hour (UTC) instead of one per run with changes")
    add.add_argument("--label", help="what the subscription is for")
    asub.add_parser("list", parents=[common], help="list the subscriptions (never the secrets)")
    rm = asub.add_parser("remove", parents=[common], help="remove a subscription and its delivery log")
    rm.add_argument("id", type=int, help="the subscription's id, as 'alert list' shows it")
    log = asub.add_parser("log", parents=[common], help="the latest messages and every attempt at them")
    log.add_argument("--limit", type=positive, default=20, help="messages shown (default 20)")
    rt = asub.add_parser("retry", parents=[common],
                         help="deliver failed messages again (or one message, by id, whatever its state)")
    rt.add_argument("id", type=int, nargs="?", help="a message's id, as 'alert log' shows it")
    asub.add_parser("send", parents=[common], help="plan and deliver what is due now, once (serve does it "
                                                   "every minute)")


def _when(value: datetime | None) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M")


def _list(session: Session) -> str:
    subs = list_subscriptions(session)
    if not subs:
        return "no alert subscription (socle-collector alert add --help)"
    lines = []
    for s in subs:
        lines.append(f"  {s.id:>4}  {s.channel:<7} {s.target:<40} scope {s.scope:<24} "
                     f"{'daily digest' if s.digest else 'at once':<12} token {s.token_id}"
                     f"{f'  ({s.label})' if s.label else ''}")
    return "alert subscriptions:\n" + "\n".join(lines)


def _log(session: Session, limit: int) -> str:
    rows = session.execute(select(AlertOutbox, AlertSubscription.channel, AlertSubscription.target)
                           .join(AlertSubscription).order_by(AlertOutbox.id.desc()).limit(limit)).all()
    if not rows:
        return "no alert message yet"
    lines = []
    for o, channel, target in rows:
        lines.append(f"  message {o.id}  {o.state:<7} {channel} {target}: {len(o.changes)} change(s), "
                     f"made {_when(o.created_at)}, attempts {o.attempts}"
                     + (f", next {_when(o.next_at)}" if o.state == "pending" else "")
                     + (f", sent {_when(o.sent_at)}" if o.sent_at else ""))
        for d in session.scalars(select(AlertDelivery).where(AlertDelivery.outbox_id == o.id)
                                 .order_by(AlertDelivery.id)):
            lines.append(f"      {_when(d.at)} attempt {d.attempt}: {'ok' if d.ok else 'failed'}, {d.detail}")
    return "alert messages, newest first:\n" + "\n".join(lines)


def run_alert(engine: Engine, session: Session, args: argparse.Namespace, settings: AlertSettings,
              now: datetime) -> str:
    """Do one ``alert`` action; the text to print (errors are StoreError, as for every command)."""
    cmd = args.alert_command
    if cmd == "add":
        channel, target = ("email", args.email) if args.email else ("webhook", args.webhook)
        sub, secret = add_subscription(session, args.token, args.scope, channel, target, now,
                                       digest=args.digest, label=args.label)
        session.commit()
        text = f"alert subscription {sub.id}: {channel} to {sub.target}, scope {sub.scope}"
        if channel == "email" and settings.smtp is None:
            text += "\nwarning: no [alerts.smtp] in the settings yet: e-mails wait until it is set"
        if secret:
            text += "\nwebhook signing secret (shown once; X-Socle-Signature, docs/deployment.md):\n" + secret
        return text
    if cmd == "list":
        return _list(session)
    if cmd == "remove":
        sub = remove_subscription(session, args.id)
        session.commit()
        return f"removed alert subscription {sub.id} ({sub.channel} to {sub.target})"
    if cmd == "log":
        return _log(session, args.limit)
    if cmd == "retry":
        n = retry(engine, now, args.id)
        return f"{n} message(s) to be delivered again"
    planned, sent, failed = alert_turn(engine, settings, lambda: now)
    return f"planned {planned} message(s); sent {sent}, not sent {failed} (socle-collector alert log)"
