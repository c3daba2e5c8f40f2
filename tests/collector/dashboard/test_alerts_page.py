"""``/dashboard/alerts``: the subscriptions and the delivery log, an admin's view and a reader's own."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from collector.alerts.deliver import deliver
from collector.alerts.plan import plan
from collector.alerts.subscriptions import add_subscription
from collector.auth.credentials import create_api_token
from collector.db.models import ApiToken
from config.collector_settings import AlertSettings
from tests.collector.alerts.servers import http_receiver
from tests.collector.alerts.test_alerts import _nights
from tests.collector.judge.test_history import night
from tests.collector_db import NOW, Harness

HTML = {"accept": "text/html"}


def _made(h: Harness, role: str, label: str) -> tuple[str, str]:
    """A token's secret and id."""
    with h.sessions() as s:
        secret = create_api_token(s, role, NOW, "all", label, None)
        s.commit()
        return secret, s.scalars(select(ApiToken.token_id).where(ApiToken.label == label)).one()


def _page(h: Harness, secret: str) -> str:
    c = TestClient(h.app)
    signed = c.post("/login", data={"token": secret, "next": "/dashboard"}, follow_redirects=False)
    assert signed.status_code == 303
    r = c.get("/dashboard/alerts", headers=HTML)
    assert r.status_code == 200
    return r.text


def test_alerts_page_lists_subscriptions_and_deliveries(harness: Harness) -> None:
    admin, admin_id = _made(harness, "admin", "admin")
    reader, reader_id = _made(harness, "reader", "lead")
    with http_receiver() as (hook, url):
        hook.status = [500]
        with harness.sessions() as s:
            add_subscription(s, admin_id, "all", "webhook", url, NOW)
            add_subscription(s, reader_id, "departement:035", "email", "lead@ac-rennes.fr", NOW, digest=True)
            s.commit()
        _nights(harness, lambda k: None, last=3)
        at = night(3) + timedelta(minutes=5)
        plan(harness.engine, at)
        deliver(harness.engine, AlertSettings(), lambda: at)
        deliver(harness.engine, AlertSettings(), lambda: at + timedelta(minutes=2))
    page = _page(harness, admin)
    assert re.findall(r'<tr data-subscription="(\d+)">', page) == ["1", "2"]
    assert "résumé quotidien" in page and "lead@ac-rennes.fr" in page
    row = re.search(r'<tr data-message="1" class="state-sent">(.*?)</tr>', page, re.S)
    assert row is not None
    assert "✗ HTTP 500 Internal Server Error" in row.group(1) and "✓ HTTP 200" in row.group(1)
    assert "Les Lucioles</a> : Socle atteint → Non prête" in row.group(1)
    own = _page(harness, reader)
    assert re.findall(r'<tr data-subscription="(\d+)">', own) == ["2"] and url not in own
    assert 'data-message="2" class="state-pending"' in own  # the digest waits for its hour
