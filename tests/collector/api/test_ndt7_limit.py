"""The ndt7 endpoints run a bounded number of tests at once per process: one more is told to come back
(503 with Retry-After) rather than halving everyone's figure."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketDenialResponse

from collector.api.ndt7 import SUBPROTOCOL
from collector.app import create_app
from collector.auth.credentials import create_enroll_code
from collector.db.engine import create_schema, make_engine, session_factory
from config.collector_settings import CollectorSettings
from tests.collector_db import NOW, Harness


def test_a_test_beyond_the_limit_is_turned_away_and_the_next_one_runs(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/c.db")
    app = create_app(CollectorSettings(ndt7_max_concurrent=1), engine=engine)
    client = TestClient(app)
    with client.websocket_connect("/ndt/v7/download", subprotocols=[SUBPROTOCOL]) as first:
        assert first.receive()  # the first test runs: a measurement or a message comes
        with pytest.raises(WebSocketDenialResponse) as refused:
            client.websocket_connect("/ndt/v7/download", subprotocols=[SUBPROTOCOL]).__enter__()
        assert refused.value.status_code == 503 and refused.value.headers["retry-after"] == "15"
    with client.websocket_connect("/ndt/v7/upload", subprotocols=[SUBPROTOCOL]) as again:
        again.send_bytes(b"x" * 1024)  # the first has ended: the next one is taken
    engine.dispose()


def test_a_collector_that_asks_for_a_credential_runs_tests_for_its_agents_and_code_holders(
        tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/c.db")
    create_schema(engine)
    harness = Harness(engine, CollectorSettings(ndt7_requires_credential=True))
    agent = harness.enroll()
    with session_factory(engine)() as s:
        code = create_enroll_code(s, "0350122T", NOW, timedelta(hours=2))
        s.commit()
    client = harness.client
    with pytest.raises(WebSocketDenialResponse) as refused:
        client.websocket_connect("/ndt/v7/download", subprotocols=[SUBPROTOCOL]).__enter__()
    assert refused.value.status_code == 401
    with pytest.raises(WebSocketDenialResponse):
        client.websocket_connect("/ndt/v7/download?access_token=ABCD-EFGH-JKLM-NPQR",
                                 subprotocols=[SUBPROTOCOL]).__enter__()
    with client.websocket_connect("/ndt/v7/download", subprotocols=[SUBPROTOCOL],
                                  headers={"Authorization": f"Bearer {agent}"}) as ws:
        assert ws.receive()
    with client.websocket_connect(f"/ndt/v7/upload?access_token={code}",
                                  subprotocols=[SUBPROTOCOL]) as ws:
        ws.send_bytes(b"x" * 1024)
    engine.dispose()

