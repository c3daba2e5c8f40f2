"""What ``socle-collector`` prints is text: names, rooms, labels and hostnames never reach the terminal as
escape sequences (school list, token list, report)."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.cli.main import main as collector_main

EVIL = "Ecole\x1b]0;pwned\x07 \x1b[2J"


def test_school_and_token_lists_and_the_report_show_escape_sequences_as_text(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--db", f"sqlite:///{tmp_path / 'c.db'}"]
    assert collector_main([*db, "school", "add", "0350122T", "--name", EVIL,
                           "--commune", "Baulon\x1b[31m"]) == 0
    assert collector_main([*db, "token", "create", "--role", "reader", "--label", "mairie\x1b[5m"]) == 0
    capsys.readouterr()
    for command in (["school", "list"], ["token", "list"], ["report", "0350122T"]):
        assert collector_main([*db, *command]) == 0
        out = capsys.readouterr().out
        assert "\x1b" not in out and "\x07" not in out, command
        assert "\\x1b" in out, command
