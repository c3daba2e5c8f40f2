"""``socle-collector token list`` and ``token revoke``: agent credentials and API tokens."""

from __future__ import annotations

import argparse
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.auth.access import scope_problem
from collector.auth.credentials import describe_scope
from collector.auth.identity import revoke
from collector.db.models import AgentIncarnation, AgentRow, ApiToken


def add_token_admin_parsers(tsub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """The ``list`` and ``revoke`` actions under ``token``."""
    tsub.add_parser("list", parents=[common],
                    help="list API tokens and agent credentials (ids, never secrets)")
    rv = tsub.add_parser("revoke", parents=[common],
                         help="revoke an agent's credential (by agent id) or an API token (by token id)")
    rv.add_argument("id", help="an agent id or an API token id, as 'token list' shows them")


def _when(value: datetime | None) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M")


def run_token_admin(session: Session, args: argparse.Namespace, now: datetime) -> str:
    """Do ``token list`` or ``token revoke``; returns the text to print."""
    if args.token_command == "revoke":
        what = revoke(session, args.id.strip(), now)
        session.commit()
        return f"revoked {what}; it is refused from now on"
    lines = ["API tokens:"]
    for t in session.scalars(select(ApiToken).order_by(ApiToken.created_at)):
        state = f"revoked {_when(t.revoked_at)}" if t.revoked_at else f"expires {_when(t.expires_at)}"
        problem = scope_problem(t.scope)
        refused = f"\n      scope refused, the token grants nothing: {problem}" if problem else ""
        lines.append(f"  {t.token_id}  {t.role:<10} {describe_scope(session, t.scope):<12} "
                     f"{t.label or '-':<20} made {_when(t.created_at)}  {state}{refused}")
    lines.append("agents:")
    clones = {a for (a,) in session.execute(select(AgentIncarnation.agent_id)
                                            .where(AgentIncarnation.clone_detected_at.is_not(None)))}
    for a in session.scalars(select(AgentRow).order_by(AgentRow.school_uai, AgentRow.room)):
        flags = " revoked " + _when(a.revoked_at) if a.revoked_at else ""
        flags += " (a clone was detected and told to re-enrol)" if a.agent_id in clones else ""
        lines.append(f"  {a.agent_id}  {a.school_uai} {a.room:<10} {a.hostname:<20} "
                     f"last seen {_when(a.last_seen_at)}{flags}")
    return "\n".join(lines)
