"""``/dashboard/alerts``: the alert subscriptions and the latest deliveries (read-only; managed with
``socle-collector alert``). An admin sees every subscription; anyone else, their own token's."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from collector.api.deps import DbSession
from collector.auth.access import Action, allowed
from collector.db.alert_tables import AlertDelivery, AlertOutbox, AlertSubscription

from .auth import User
from .render import render

router = APIRouter(include_in_schema=False)
SHOWN = 50  # latest messages on the page


@router.get("/dashboard/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, user: User, session: DbSession) -> Response:
    """The subscriptions the user may see, and their latest messages with every attempt."""
    query = select(AlertSubscription).order_by(AlertSubscription.id)
    if not allowed(user.role, user.scope, Action.admin):
        query = query.where(AlertSubscription.token_id == user.token_id)
    subs = list(session.scalars(query))
    ids = [s.id for s in subs]
    messages = list(session.scalars(select(AlertOutbox).where(AlertOutbox.subscription_id.in_(ids))
                                    .order_by(AlertOutbox.id.desc()).limit(SHOWN))) if ids else []
    attempts: dict[int, list[AlertDelivery]] = {}
    if messages:
        shown = [m.id for m in messages]
        for d in session.scalars(select(AlertDelivery).where(AlertDelivery.outbox_id.in_(shown))
                                 .order_by(AlertDelivery.id)):
            attempts.setdefault(d.outbox_id, []).append(d)
    return render(request, "alerts.html", user=user, subs=subs, messages=messages, attempts=attempts,
                  by_id={s.id: s for s in subs})
