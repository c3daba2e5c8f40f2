"""What an alert says: the e-mail and the webhook body of one outbox message, and the webhook's signature.

Pure functions of the message's changes. A change is a dict: the school (``uai``,
``name``, ``commune``), ``at``, ``was``, ``became``, ``cause`` (collector/judge/history.py)
and ``rules``: the rule outcomes that changed with it (``rule_id``, ``was``, ``became``).

The webhook's body is JSON; ``X-Socle-Signature: t=<unix time>,sha256=<hex>`` is the
HMAC-SHA256, under the subscription's secret, of ``<unix time>.`` followed by the body's
bytes (docs/deployment.md shows how to check it); ``X-Socle-Delivery`` is the message's
id, the same on every retry, so that a receiver can drop a message it already has.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from email.message import EmailMessage
from typing import Any

# The dashboard's French words for the levels (collector/dashboard/i18n.py), for the e-mails.
LEVEL_WORDS = {"not_ready": "non prête (sous le socle)", "base": "socle atteint", "target": "cible atteinte",
               "no_data": "sans données"}
CAUSE_WORDS = {"data": "les mesures ont changé", "silent": "plus de données reçues",
               "heard": "de nouveau des données", "profile": "nouvelle version du référentiel"}
OUTCOME_WORDS = {"pass": "respectée", "fail": "non respectée", "no_data": "sans données", None: "—"}
SIGNATURE = "X-Socle-Signature"
DELIVERY = "X-Socle-Delivery"


def body_of(message_id: int, kind: str, created_at: str, subscription: dict[str, Any],
            changes: list[dict[str, Any]]) -> bytes:
    """The webhook's JSON body."""
    doc = {"id": message_id, "kind": kind, "created_at": created_at, "subscription": subscription,
           "changes": changes}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Socle-Signature`` value of a body sent at ``timestamp`` (Unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},sha256={mac}"


def verify(secret: str, header: str, body: bytes) -> bool:
    """Whether ``header`` (an ``X-Socle-Signature`` value) signs ``body`` under ``secret``."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if not fields.get("t", "").isdigit() or "sha256" not in fields:
        return False
    return hmac.compare_digest(signature(secret, int(fields["t"]), body), header)


def _change_line(c: dict[str, Any]) -> str:
    was, became = LEVEL_WORDS.get(c["was"], c["was"]), LEVEL_WORDS.get(c["became"], c["became"])
    at = c["at"][:16].replace("T", " ")
    lines = [f"- {c['name']} ({c['uai']}, {c['commune']}) : {was} → {became}, le {at} UTC "
             f"({CAUSE_WORDS.get(c['cause'], c['cause'])})"]
    lines += [f"    {r['rule_id']} : {OUTCOME_WORDS.get(r['was'], r['was'])} → "
              f"{OUTCOME_WORDS.get(r['became'], r['became'])}" for r in c["rules"]]
    return "\n".join(lines)


def email_of(message_id: int, kind: str, sender: str, to: str, domain: str, changes: list[dict[str, Any]],
             dashboard: str | None = None) -> EmailMessage:
    """The e-mail of one message: every change it tells, one line each (and the rules that moved)."""
    down = sum(c["became"] == "not_ready" for c in changes)
    up = sum(c["was"] == "not_ready" and c["became"] in ("base", "target") for c in changes)
    silent = sum(c["became"] == "no_data" for c in changes)
    counts = ", ".join(part for part in (f"{down} sous le socle" if down else "",
                                         f"{up} de retour au socle" if up else "",
                                         f"{silent} sans données" if silent else "") if part)
    what = "Résumé du jour" if kind == "digest" else "Changements de niveau"
    msg = EmailMessage()
    msg["Subject"] = f"Socle : {what}, {len(changes)} école(s){f' ({counts})' if counts else ''}"
    msg["From"], msg["To"] = sender, to
    msg["Message-ID"] = f"<socle-alert-{message_id}@{domain}>"  # the same on every retry
    text = [f"{what} des écoles de votre périmètre :", "", *(_change_line(c) for c in changes), ""]
    if dashboard:
        text.append(f"Tableau de bord : {dashboard}")
    text.append("Vous recevez ce message parce qu'un abonnement aux alertes Socle vous désigne "
                "(socle-collector alert list).")
    msg.set_content("\n".join(text))
    return msg
