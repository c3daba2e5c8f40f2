"""Crash: the collector killed with SIGKILL while agents post; every acknowledged report survives."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select

from collector.db.engine import create_schema, make_engine, session_factory
from collector.db.models import ReportRow
from tests.collector_db import SCHOOLS, Harness, report_body
from tests.conftest import BIN, free_port

pytestmark = pytest.mark.slow


def _post(url: str, token: str, body: dict) -> int:
    req = urllib.request.Request(url + "/api/v1/reports", data=json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": f"Bearer {token}",
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_every_acknowledged_report_survives_sigkill(db_url: str, tmp_path: Path) -> None:
    engine = make_engine(db_url)
    create_schema(engine)
    harness = Harness(engine)
    tokens = [harness.enroll(SCHOOLS[0].uai) for _ in range(4)]
    port = free_port()
    cfg = tmp_path / "collector.toml"
    cfg.write_text("rate_limit_per_minute = 0\n")
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen([str(BIN / "socle-collector"), "serve", "--config", str(cfg), "--db", db_url,
                               "--port", str(port)], stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    acked: list[str] = []
    stop = threading.Event()

    def agent(token: str) -> None:
        while not stop.is_set():
            body = report_body(SCHOOLS[0].uai)
            try:
                status = _post(url, token, body)
            except OSError:
                continue  # refused or reset: the server is down, nothing was acknowledged
            if 200 <= status < 300:
                acked.append(str(body["report_id"]))

    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url + "/livez", timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        threads = [threading.Thread(target=agent, args=(t,)) for t in tokens]
        for t in threads:
            t.start()
        while len(acked) < 40 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.send_signal(signal.SIGKILL)  # mid-ingest: requests are in flight
        server.wait(10)
        time.sleep(0.5)
        stop.set()
        for t in threads:
            t.join(10)
    finally:
        stop.set()
        if server.poll() is None:
            server.kill()
        log.close()
    assert len(acked) >= 40
    with session_factory(engine)() as s:
        stored = set(s.scalars(select(ReportRow.report_id)))
    missing = [rid for rid in acked if rid not in stored]
    assert missing == [], f"{len(missing)} of {len(acked)} acknowledged reports lost"
    engine.dispose()
