"""What ``socle-collector`` prints is text: names, rooms, labels and hostnames never reach the terminal as
escape sequences (the refusal of a bad name, the token list, the report)."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.cli.main import main as collector_main

EVIL = "Ecole\x1b]0;pwned\x07 \x1b[2J"


def test_refusals_lists_and_reports_show_escape_sequences_as_text(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--db", f"sqlite:///{tmp_path / 'c.db'}"]
    assert collector_main([*db, "school", "add", "0350122T", "--name", EVIL, "--commune", "Baulon"]) == 2
    refused = capsys.readouterr()
    assert "\x1b" not in refused.err + refused.out  # the name is refused, and the refusal is text
    assert collector_main([*db, "school", "add", "0350122T", "--name", "Les Lucioles", "--commune",
                           "Baulon"]) == 0
    assert collector_main([*db, "token", "create", "--role", "reader", "--label", "mairie\x1b[5m"]) == 0
    capsys.readouterr()
    for command in (["token", "list"], ["school", "list"], ["report", "0350122T"]):
        assert collector_main([*db, *command]) == 0
        out = capsys.readouterr().out
        assert "\x1b" not in out and "\x07" not in out, command
    assert collector_main([*db, "token", "list"]) == 0
    assert "mairie\\x1b[5m" in capsys.readouterr().out
