"""``socle-collector serve --workers N``: a socket per process, connections spread, the dead restarted."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import psutil
import pytest
import requests

from collector.cli.workers import balanced, listening_socket
from tests.conftest import BIN, free_port

pytestmark = pytest.mark.skipif(not balanced(), reason="one socket per process needs Linux's SO_REUSEPORT")


def test_sockets_sharing_a_port_each_get_a_share_of_the_connections() -> None:
    port = free_port()
    socks = [listening_socket("127.0.0.1", port) for _ in range(2)]
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(100)]
    try:
        counts = []
        for s in socks:
            s.setblocking(False)
            n = 0
            while True:
                try:
                    conn, _ = s.accept()
                except BlockingIOError:
                    break
                conn.close()
                n += 1
            counts.append(n)
        assert sum(counts) == 100
        assert min(counts) >= 25, counts  # a hash of the addresses: about even (P(< 25) ~ 1e-6)
    finally:
        for c in clients:
            c.close()
        for s in socks:
            s.close()


def test_a_port_in_use_by_another_program_is_refused_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{port}"):
            listening_socket("127.0.0.1", port)
        done = subprocess.run([str(BIN / "socle-collector"), "serve", "--data-dir", str(tmp_path / "data"),
                               "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert f"socle-collector: cannot listen on 127.0.0.1:{port}: Address already in use" in done.stderr
    assert "Traceback" not in done.stderr


def _workers(server: psutil.Process) -> list[psutil.Process]:
    return [c for c in server.children() if "resource_tracker" not in " ".join(c.cmdline())]


def _kept_connections(worker: psutil.Process, port: int) -> int:
    return sum(1 for c in worker.net_connections("tcp")
               if c.laddr and c.laddr.port == port and c.status == "ESTABLISHED")


def test_workers_share_kept_connections_and_one_that_dies_is_started_again(tmp_path: Path) -> None:
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([str(BIN / "socle-collector"), "serve", "--data-dir", str(tmp_path / "data"),
                             "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
                            stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    kept: list[socket.socket] = []
    try:
        server = psutil.Process(proc.pid)
        deadline = time.monotonic() + 60
        while len(_workers(server)) < 2 or not _answers(url):
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.2)
        # Clients that open their connections together and keep them (a proxy's pool, agents back after
        # an outage): each process serves a share of them. On one shared socket, the first process to
        # wake took them all or nearly.
        kept = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(100)]
        for c in kept:
            c.sendall(b"GET /livez HTTP/1.1\r\nHost: socle\r\n\r\n")
        for c in kept:
            assert c.recv(4096).startswith(b"HTTP/1.1 200")
        counts = sorted(_kept_connections(w, port) for w in _workers(server))
        assert sum(counts) == 100 and counts[0] >= 25, counts
        # A process that dies is started again, and the collector answers on.
        victim = _workers(server)[0]
        victim.kill()
        victim.wait(10)
        deadline = time.monotonic() + 60
        while True:
            alive = [w for w in _workers(server) if w.pid != victim.pid and w.is_running()]
            if len(alive) == 2 and all(_answers(url) for _ in range(10)):
                break
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.2)
        children = _workers(server)
        # SIGTERM: every process stops, the parent last.
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(60) == 0
        assert not any(c.is_running() and c.status() != psutil.STATUS_ZOMBIE for c in children)
    finally:
        for c in kept:
            c.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        log.close()


def _answers(url: str) -> bool:
    try:
        return requests.get(url + "/livez", timeout=2).status_code == 200
    except requests.RequestException:
        return False
