"""Alerts end to end on both databases: changes of level told by e-mail (a real SMTP server) and by
webhook (a real HTTP receiver, signature checked), one message per subscriber per run, none for a
night without change; retries with backoff, a claim that outlives a stopped process, daily digests."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from collector.alerts.deliver import _claim, deliver, retry
from collector.alerts.messages import SIGNATURE, verify
from collector.alerts.plan import plan
from collector.alerts.run import alert_turn
from collector.alerts.subscriptions import add_subscription
from collector.auth.credentials import create_api_token
from collector.db.alert_tables import AlertDelivery, AlertOutbox
from collector.db.models import ApiToken
from collector.judge.sweep import sweep
from config.collector_settings import AlertSettings, SmtpSettings
from tests.collector.alerts.servers import http_receiver, smtp_server
from tests.collector.judge.test_history import download_profile, night
from tests.collector_db import NOW, Harness, auth, report_body

BACK, STAYS = "0350122T", "0350127Y"  # both below base on night 3; BACK recovers on night 9


def _token(h: Harness, scope: str = "all", label: str = "it-lead") -> str:
    """A reader token's id."""
    with h.sessions() as s:
        create_api_token(s, "reader", NOW, scope, label, None)
        s.commit()
        return s.scalars(select(ApiToken.token_id).where(ApiToken.label == label)).one()


def _subscribe(h: Harness, token_id: str, scope: str, channel: str, target: str,
               digest: bool = False) -> str | None:
    with h.sessions() as s:
        _, secret = add_subscription(s, token_id, scope, channel, target, NOW, digest=digest)
        s.commit()
    return secret


def _settings(port: int, **kw: Any) -> AlertSettings:
    return AlertSettings(smtp=SmtpSettings(host="127.0.0.1", port=port, sender="socle@ac-rennes.fr",
                                           security="none"), **kw)


def _nights(h: Harness, turn: Callable[[int], object], last: int = 11) -> None:
    """Nights 0 to ``last``: both schools report, the sweep judges, then ``turn(k)``."""
    profile = download_profile()
    tokens = {u: h.enroll(u) for u in (BACK, STAYS)}
    for k in range(last + 1):
        for uai, token in tokens.items():
            low = k >= 3 and (uai == STAYS or k < 9)
            body = report_body(uai=uai, down=12.0 if low else 50.0, taken_at=night(k) - timedelta(hours=1))
            assert h.client.post("/api/v1/reports", json=body, headers=auth(token)).status_code == 201
        sweep(h.engine, profile, night(k))
        turn(k)


def test_each_change_is_told_once_by_email_and_webhook(harness: Harness) -> None:
    lead, other = _token(harness, "departement:035"), _token(harness, "all", "ops")
    with smtp_server() as (box, port), http_receiver() as (hook, url):
        _subscribe(harness, lead, "departement:035", "email", "it-lead@ac-rennes.fr")
        secret = _subscribe(harness, other, "all", "webhook", url)
        _subscribe(harness, other, "departement:029", "email", "finistere@ac-rennes.fr")  # no school there
        settings = _settings(port)
        told: dict[int, tuple[int, int]] = {}

        def turn(k: int) -> None:
            before = (len(box.messages), len(hook.calls))
            alert_turn(harness.engine, settings, lambda: night(k) + timedelta(minutes=5))
            told[k] = (len(box.messages) - before[0], len(hook.calls) - before[1])

        _nights(harness, turn)
    assert told == {k: (1, 1) if k in (3, 9) else (0, 0) for k in range(12)}  # nothing on other nights
    (to3, mail3), (to9, mail9) = box.messages
    assert to3 == to9 == ["it-lead@ac-rennes.fr"]
    assert mail3["Subject"] == "Socle : Changements de niveau, 2 école(s) (2 sous le socle)"
    text = mail3.get_payload(decode=True).decode()
    assert f"Les Lucioles ({BACK}, Baulon) : socle atteint → non prête (sous le socle), le " \
           f"{night(3):%Y-%m-%d %H:%M} UTC (les mesures ont changé)" in text
    assert "A2-download-base : respectée → non respectée" in text and STAYS in text
    assert mail9["Subject"] == "Socle : Changements de niveau, 1 école(s) (1 de retour au socle)"
    assert secret is not None
    for headers, body in hook.calls:
        assert verify(secret, headers[SIGNATURE], body)
        assert not verify(secret + "x", headers[SIGNATURE], body)
        assert not verify(secret, headers[SIGNATURE], body + b" ")
    drop, back = (json.loads(body) for _, body in hook.calls)
    assert [(c["uai"], c["was"], c["became"], c["at"]) for c in drop["changes"]] == [
        (BACK, "base", "not_ready", night(3).isoformat()), (STAYS, "base", "not_ready", night(3).isoformat())]
    assert drop["changes"][0]["rules"] == [{"rule_id": "A2-download-base", "was": "pass", "became": "fail"}]
    assert [(c["uai"], c["became"], c["cause"]) for c in back["changes"]] == [(BACK, "base", "data")]
    with harness.sessions() as s:
        log = s.scalars(select(AlertDelivery).order_by(AlertDelivery.id)).all()
        assert [(d.ok, d.attempt) for d in log] == [(True, 1)] * 4
        assert {o.state for o in s.scalars(select(AlertOutbox))} == {"sent"}


def test_a_failed_webhook_is_retried_with_backoff_and_logged(harness: Harness) -> None:
    ops = _token(harness)
    with http_receiver() as (hook, url):
        _subscribe(harness, ops, "all", "webhook", url)
        hook.status = [500, 503]
        settings = AlertSettings(retry_s=60)
        at = night(3) + timedelta(minutes=5)
        _nights(harness, lambda k: None, last=3)
        assert plan(harness.engine, at) == 1
        assert deliver(harness.engine, settings, lambda: at) == (0, 1)  # 500: again in 60 s
        assert deliver(harness.engine, settings, lambda: at + timedelta(seconds=59)) == (0, 0)
        assert deliver(harness.engine, settings, lambda: at + timedelta(seconds=61)) == (0, 1)  # then 120 s
        assert deliver(harness.engine, settings, lambda: at + timedelta(seconds=61 + 119)) == (0, 0)
        assert deliver(harness.engine, settings, lambda: at + timedelta(seconds=61 + 121)) == (1, 0)
    assert len(hook.calls) == 3 and len({h["X-Socle-Delivery"] for h, _ in hook.calls}) == 1
    with harness.sessions() as s:
        log = s.scalars(select(AlertDelivery).order_by(AlertDelivery.id)).all()
        assert [(d.attempt, d.ok, d.detail) for d in log] == [
            (1, False, "HTTP 500 Internal Server Error"), (2, False, "HTTP 503 Service Unavailable"),
            (3, True, "HTTP 200")]


def test_nothing_is_lost_when_a_process_stops_mid_send_and_failures_can_be_retried(harness: Harness) -> None:
    ops = _token(harness)
    with http_receiver() as (hook, url):
        _subscribe(harness, ops, "all", "webhook", url)
        _subscribe(harness, ops, "all", "email", "ops@ac-rennes.fr")  # no [alerts.smtp]: cannot be sent
        at = night(3) + timedelta(minutes=5)
        _nights(harness, lambda k: None, last=3)
        assert plan(harness.engine, at) == 2
        settings = AlertSettings(claim_s=300, max_attempts=1)
        assert len(_claim(harness.engine, at, settings.claim_s)) == 2  # claimed, then the process stops
        assert deliver(harness.engine, settings, lambda: at + timedelta(seconds=299)) == (0, 0)  # still held
        assert deliver(harness.engine, settings, lambda: at + timedelta(seconds=301)) == (1, 1)
        assert len(hook.calls) == 1
        with harness.sessions() as s:
            mail = s.scalars(select(AlertOutbox).where(AlertOutbox.state == "failed")).one()
            assert mail.last_error == "no [alerts.smtp] in the collector's settings: e-mail cannot be sent"
        assert retry(harness.engine, at) == 1
        assert deliver(harness.engine, settings, lambda: at + timedelta(seconds=302)) == (0, 1)


def test_a_daily_digest_leaves_at_its_hour_with_the_day_s_changes(harness: Harness) -> None:
    lead = _token(harness, "departement:035")
    with smtp_server() as (box, port):
        _subscribe(harness, lead, "departement:035", "email", "it-lead@ac-rennes.fr", digest=True)
        settings = _settings(port, digest_hour=7)
        sent: dict[int, int] = {}

        def turn(k: int) -> None:
            before = len(box.messages)
            alert_turn(harness.engine, settings, lambda: night(k) + timedelta(minutes=5))
            sent[k] = len(box.messages) - before

        _nights(harness, turn)
    # night 3's changes (10:00 UTC) wait for 07:00 the next day, and go with night 4's run
    assert sent == {k: 1 if k in (4, 10) else 0 for k in range(12)}
    assert box.messages[0][1]["Subject"].startswith("Socle : Résumé du jour, 2 école(s)")


def test_two_runs_before_the_digest_hour_make_one_digest(harness: Harness) -> None:
    lead = _token(harness)
    _subscribe(harness, lead, "all", "email", "it-lead@ac-rennes.fr", digest=True)
    profile = download_profile()
    token = harness.enroll(BACK)
    for k, down in ((0, 50.0), (1, 12.0), (2, 50.0)):
        body = report_body(uai=BACK, down=down, taken_at=night(k) - timedelta(hours=1))
        assert harness.client.post("/api/v1/reports", json=body, headers=auth(token)).status_code == 201
        sweep(harness.engine, profile, night(k))
        assert plan(harness.engine, night(k).replace(hour=5), digest_hour=7) == (1 if k == 1 else 0)
    with harness.sessions() as s:
        digest = s.scalars(select(AlertOutbox)).one()
        assert [c["became"] for c in digest.changes] == ["not_ready", "base"]


def test_a_new_profile_version_and_a_scope_outside_tell_nothing(harness: Harness) -> None:
    lead, far = _token(harness, "departement:035"), _token(harness, "departement:029", "far")
    _subscribe(harness, lead, "departement:035", "email", "it-lead@ac-rennes.fr")
    _subscribe(harness, far, "all", "email", "far@ac-rennes.fr")  # its token reads only 029
    token = harness.enroll(BACK)
    for k, down, profile in ((0, 50.0, download_profile()), (1, 50.0, download_profile(60.0, "2")),
                             (2, 70.0, download_profile(60.0, "2"))):
        body = report_body(uai=BACK, down=down, taken_at=night(k) - timedelta(hours=1))
        assert harness.client.post("/api/v1/reports", json=body, headers=auth(token)).status_code == 201
        sweep(harness.engine, profile, night(k))
        planned = plan(harness.engine, night(k) + timedelta(minutes=1))
        # night 1: below base by version 2's rules, not the school's doing; night 2: the school's
        assert planned == (1 if k == 2 else 0)
    with harness.sessions() as s:
        (message,) = s.scalars(select(AlertOutbox)).all()
        told = [(c["was"], c["became"], c["cause"]) for c in message.changes]
        assert told == [("not_ready", "base", "data")]
