"""``socle-agent wifi --from-file`` / ``--pcap`` on every real fixture."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.cli import main
from tests.conftest import FIXTURES
from tests.probes.test_wifi_parsers import CASES

FIX = FIXTURES / "wifi"


@pytest.mark.parametrize("rel", sorted(CASES))
def test_from_file_recognises_the_tool(rel: str, capsys: pytest.CaptureFixture[str],
                                       tmp_path: Path) -> None:
    flag = "--pcap" if rel.startswith("pcap/") else "--from-file"
    code = main(["--state-dir", str(tmp_path), "wifi", flag, str(FIX / rel), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert doc["tool"] == CASES[rel][0]
    assert doc["status"] == CASES[rel][1].value


def test_unreadable_file_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    junk = tmp_path / "junk.txt"
    junk.write_text("nothing a Wi-Fi tool prints\n")
    assert main(["--state-dir", str(tmp_path), "wifi", "--from-file", str(junk)]) == 2
    assert json.loads(capsys.readouterr().out)["status"] == "error"
