"""Two wheels from one tree: what each holds, and the agent's alone in a fresh venv (issue 17).

Slow (a fresh venv and an install from the index): one build per run (conftest.py).
"""

from __future__ import annotations

import zipfile
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path

import pytest

from tests.packaging.support import COLLECTOR_ONLY, Venv, install_growth, make_venv, sh

pytestmark = pytest.mark.slow


def _names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as zf:
        return set(zf.namelist())


def _metadata(wheel: Path) -> Message:
    with zipfile.ZipFile(wheel) as zf:
        meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        return HeaderParser().parsestr(zf.read(meta).decode())


def test_the_agent_wheel_holds_the_agent_and_its_data(wheels: dict[str, Path]) -> None:
    names = _names(wheels["agent"])
    assert {"agent/launch.py", "agent/entry.py", "agent/__main__.py", "probes/registry.py", "config/wire.py",
            "config/compat.py", "config/profiles/socle-default.toml", "config/os_support.toml",
            "config/examples/agent.toml"} <= names
    assert not any(n.startswith("collector/") or "__pycache__" in n for n in names)
    meta = _metadata(wheels["agent"])
    assert meta["Name"] == "socle-agent" and meta["Requires-Python"] == ">=3.10"
    requires = " ".join(meta.get_all("Requires-Dist") or [])
    assert not any(lib in requires for lib in COLLECTOR_ONLY)
    assert "tomli" in requires and "tzdata" in requires


def test_the_collector_wheel_holds_the_collector_and_depends_on_that_agent(wheels: dict[str, Path]) -> None:
    names = _names(wheels["collector"])
    assert {"collector/templates/base.html", "collector/static/style.css",
            "collector/db/migrations/script.py.mako", "collector/db/migrations/env.py"} <= names
    assert any(n.startswith("collector/db/migrations/versions/0001") for n in names)
    assert not any(n.split("/")[0] in ("agent", "probes", "config") for n in names)
    meta = _metadata(wheels["collector"])
    assert "socle-agent==0.1.0" in (meta.get_all("Requires-Dist") or [])


@pytest.fixture(scope="module")
def agent_venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    return make_venv(tmp_path_factory.mktemp("agent-venv") / "venv")


def test_the_agent_alone_pulls_no_collector_library(agent_venv: Venv, wheels: dict[str, Path]) -> None:
    growth = install_growth(agent_venv, wheels["agent"])
    print(f"\nagent-only install: {len(growth.added)} distributions, site-packages +{growth.mb} MB: "
          f"{', '.join(sorted(growth.added))}")
    assert "socle-agent" in growth.added and "psutil" in growth.added and "scapy" in growth.added
    assert not growth.added & set(COLLECTOR_ONLY)
    assert sh(agent_venv.bin / "socle-agent", "--version").stdout.strip().endswith("0.1.0")
    code = "import importlib.util as u; print(u.find_spec('collector'))"
    assert sh(agent_venv.python, "-c", code, cwd=agent_venv.root).stdout.strip() == "None"


def test_the_collector_wheel_installs_beside_it(agent_venv: Venv, wheels: dict[str, Path]) -> None:
    growth = install_growth(agent_venv, "--find-links", wheels["collector"].parent, wheels["collector"])
    print(f"\ncollector on top: {len(growth.added)} distributions, site-packages +{growth.mb} MB")
    assert {"socle-collector", "fastapi", "sqlalchemy", "numpy"} <= growth.added
    assert "socle-agent" not in growth.added  # the one already there satisfies socle-agent==0.1.0
    # The installed collector makes its schema from the migrations its wheel shipped, and its
    # models agree with them.
    data = agent_venv.root / "collector-data"
    sh(agent_venv.bin / "socle-collector", "--data-dir", data, "migrate", cwd=agent_venv.root)
    sh(agent_venv.bin / "socle-collector", "--data-dir", data, "migrate", "--check", cwd=agent_venv.root)
    assert (data / "socle.db").stat().st_size > 0
