"""Idle and slow connections cannot starve a serving collector: with the usual service limit of 1,024
open files, 1,000 connections that send nothing (or a byte now and then) leave normal requests
answered, and are closed once their request is overdue. A real ``socle-collector serve``."""

from __future__ import annotations

import contextlib
import resource
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from collector.cli.connections import RESERVED_FDS, connection_cap
from tests.conftest import BIN, free_port

pytestmark = pytest.mark.slow
LIMIT = 1024


def _service_limits() -> None:  # in the child: the open-file limit a service usually gets
    resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, LIMIT))


@contextlib.contextmanager
def _serving(tmp_path: Path) -> Iterator[str]:
    config = tmp_path / "collector.toml"
    config.write_text("request_timeout_s = 2\nkeep_alive_s = 2\nrate_limit_per_minute = 0\n")
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([str(BIN / "socle-collector"), "serve", "--config", str(config), "--data-dir",
                             str(tmp_path / "data"), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=log, stderr=log, preexec_fn=_service_limits)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(20)


def _open(url: str, n: int) -> list[socket.socket]:
    port = int(url.rsplit(":", 1)[1])
    held = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        held.append(s)
    return held


def _closed_by_server(s: socket.socket) -> bool:
    s.settimeout(0.2)
    try:
        return s.recv(1) == b""
    except TimeoutError:
        return False
    except OSError:
        return True


def test_a_thousand_idle_connections_leave_requests_answered_and_are_closed(tmp_path: Path) -> None:
    assert connection_cap(LIMIT) == LIMIT - RESERVED_FDS
    with _serving(tmp_path) as url:
        idle = _open(url, 1000)
        try:
            for _ in range(5):  # the service stays up for everyone else
                assert requests.get(url + "/healthz", timeout=5).json()["database"] == "ok"
            time.sleep(3)  # past the 2 s deadline
            closed = sum(_closed_by_server(s) for s in idle)
            assert closed == len(idle)
            assert requests.get(url + "/api/v1/profile", timeout=5).status_code == 200
        finally:
            for s in idle:
                s.close()


def test_a_request_sent_a_byte_at_a_time_is_closed_at_its_deadline(tmp_path: Path) -> None:
    with _serving(tmp_path) as url:
        (slow,) = _open(url, 1)
        try:
            started = time.monotonic()
            sent = b""
            for byte in b"POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n":
                try:
                    slow.send(bytes([byte]))
                except OSError:
                    break
                sent += bytes([byte])
                if _closed_by_server(slow):
                    break
                time.sleep(0.1)
            assert _closed_by_server(slow)
            assert time.monotonic() - started < 6  # closed near its 2 s deadline, not at the end
            assert requests.get(url + "/healthz", timeout=5).status_code == 200
        finally:
            slow.close()
