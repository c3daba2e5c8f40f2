"""``socle-collector report`` ends with the school page's summary of the failing rules, in English."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.cli.main import main as collector_main
from tests.dashboard_support import BAULON, CARDROC, seed


@pytest.mark.parametrize(("uai", "summary"), [
    (BAULON.uai, "Why not higher: Not ready: download 5.4 Mbit/s where 16 Mbit/s is required (A1, A2); "
                 "upload 1.5 Mbit/s where 2 Mbit/s is required (A2); memory 3.8 GB where 7.5 GB is required, "
                 "device pc-cm1#"),
    (CARDROC.uai, "Why not higher: Target not met: download 24 Mbit/s where 30 Mbit/s is required (A3)."),
])
def test_report_ends_with_why_not_higher(tmp_path: Path, capsys: pytest.CaptureFixture[str], uai: str,
                                         summary: str) -> None:
    seed(tmp_path, clock=None)  # the command judges at the real time: the nights are made before it
    assert collector_main(["--db", f"sqlite:///{tmp_path / 'dash.db'}", "report", uai]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith(summary), last
