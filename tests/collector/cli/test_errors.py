"""Every mistake a user can make with ``socle-collector`` is one clear line and a documented exit code
(2 usage or configuration, 1 failed), never a traceback."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from collector.cli.main import main as collector_main
from tests.conftest import run_cli


@pytest.mark.parametrize(("args", "code", "says"), [
    (["--db", "mysql://x@db.invalid/z", "school", "list"], 2, "SQLite (sqlite:///PATH) or PostgreSQL"),
    (["--db", "nonsense", "school", "list"], 2, "is not a database URL"),
    (["--db", "postgresql://nobody@127.0.0.1:1/x", "school", "list"], 1, "the database does not answer"),
    (["--db", "postgres://nobody@127.0.0.1:1/x", "school", "list"], 1, "the database does not answer"),
    (["--db", "sqlite:////nonexistent/dir/x.db", "school", "list"], 1, "the database does not answer"),
    (["--data-dir", "/proc/socle-test/x", "school", "list"], 1, "/proc/socle-test"),
    (["serve", "--cert", "/nope.pem", "--key", "/nope.key"], 2, "the TLS certificate /nope.pem"),
])
def test_a_wrong_database_directory_or_file_is_one_line(args: list[str], code: int, says: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert collector_main(args) == code
    err = capsys.readouterr().err.strip()
    assert says in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        done = run_cli("socle-collector", "serve", "--data-dir", str(tmp_path), "--port", str(port),
                       timeout=60)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "in use" in done.stderr.lower(), done.stderr
