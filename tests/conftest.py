"""Fixtures shared by the spine's tests: a real collector process on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

# The database fixtures (db_url: SQLite and PostgreSQL legs, engine, harness) for every test module.
from tests.collector_db import both_engines_fixture, db_url_fixture, engine_fixture, harness_fixture  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
BIN = Path(sys.executable).parent

# Every agent a test starts measures only what stays on this machine, unless the
# test gives its own --config (see the file's header).
os.environ.setdefault("SOCLE_AGENT_CONFIG", str(FIXTURES / "agent" / "loopback.toml"))
# And speaks English, whatever the language of the machine running the tests (agent/i18n.py);
# the tests of the French terminal ask for French themselves.
os.environ.setdefault("SOCLE_AGENT_LANG", "en")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_cli(tool: str, *args: str, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run one of the installed console scripts (socle-agent, socle-collector)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([str(BIN / tool), *args], capture_output=True, text=True, env=full_env,
                          timeout=timeout, check=False)


@dataclass
class Collector:
    """A collector process serving on loopback."""

    url: str
    data_dir: Path
    db_args: list[str]  # how the admin commands reach the same database
    proc: subprocess.Popen[bytes]

    def admin(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run socle-collector against this collector's database."""
        return run_cli("socle-collector", *args, *self.db_args)


@pytest.fixture
def collector(tmp_path: Path, db_url: str) -> Iterator[Collector]:
    """A real ``socle-collector serve`` on a free loopback port: a new SQLite file, or a new
    PostgreSQL schema (the ``db_url`` fixture runs each test on both)."""
    data_dir = tmp_path / "collector"
    db_args = ["--data-dir", str(data_dir)] + ([] if db_url.startswith("sqlite") else ["--db", db_url])
    port = free_port()
    log = (tmp_path / "collector.log").open("wb")
    proc = subprocess.Popen([str(BIN / "socle-collector"), "serve", *db_args,
                             "--host", "127.0.0.1", "--port", str(port)], stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(url + "/healthz", timeout=1).status_code == 200:
                break
        except requests.RequestException:  # not listening yet, or too busy starting to answer
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("collector did not start:\n"
                               + (tmp_path / "collector.log").read_text(errors="replace"))
        time.sleep(0.1)
    try:
        yield Collector(url=url, data_dir=data_dir, db_args=db_args, proc=proc)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
