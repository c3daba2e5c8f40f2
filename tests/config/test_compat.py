"""The agent's Python 3.10 support: the backports behave as 3.11's, and vermin finds no 3.11-only use."""

from __future__ import annotations

import enum
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from pydantic import BaseModel

from config import compat

ROOT = Path(__file__).resolve().parents[2]


class Real(enum.StrEnum):
    ok = "ok"
    not_ready = "not_ready"


class Back(compat.BackportStrEnum):
    ok = "ok"
    not_ready = "not_ready"


@pytest.mark.parametrize("cls", [Real, Back])
def test_backport_str_enum_behaves_as_3_11(cls: type[enum.Enum]) -> None:
    member = cls("not_ready")
    assert member == "not_ready"
    assert str(member) == "not_ready"
    assert f"{member}" == "not_ready" and f"{member:>10}" == " not_ready"
    assert "-".join([member, cls.ok]) == "not_ready-ok"  # type: ignore[list-item]

    class Model(BaseModel):
        status: cls  # type: ignore[valid-type]

    assert Model.model_validate({"status": "ok"}).status is cls.ok
    assert Model(status=member).model_dump(mode="json") == {"status": "not_ready"}


def test_backport_auto_gives_lower_case_names() -> None:
    class Colour(compat.BackportStrEnum):
        RED = enum.auto()

    assert Colour.RED.value == "red"


def test_utc_is_the_utc_of_3_11() -> None:
    assert compat.UTC is timezone.utc
    assert datetime(2026, 1, 1, tzinfo=compat.UTC).isoformat() == "2026-01-01T00:00:00+00:00"


def test_tomllib_reads_toml() -> None:
    assert compat.tomllib.loads('a = 1\n[b]\nc = "d"\n') == {"a": 1, "b": {"c": "d"}}


def _vermin() -> str | None:
    found = shutil.which("vermin") or str(Path(sys.executable).with_name("vermin"))
    return found if Path(found).exists() else None


@pytest.mark.skipif(_vermin() is None, reason="vermin is not installed (it is in the test extra)")
def test_agent_code_runs_on_python_3_10() -> None:
    """vermin's static check: nothing in agent/, probes/, config/ needs more than 3.10."""
    proc = subprocess.run([_vermin() or "vermin", "-t=3.10-", "--violations", "--no-tips",
                           "agent", "probes", "config"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Minimum required versions: 3.10" in proc.stdout
