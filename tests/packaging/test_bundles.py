"""``socle-agent bundle`` for real: Windows and macOS folders resolved here, the Linux one installed
offline in a fresh venv with the index switched off (issue 17).

Slow (the resolver and pip against the index): each bundle is made once per run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from agent.bundle_cmd import Bundle, make_bundle
from tests.packaging.support import COLLECTOR_ONLY, install_growth, make_venv, offline_env, sh

pytestmark = pytest.mark.slow
HERE_PY = f"{sys.version_info[0]}.{sys.version_info[1]}"
LINUX = "manylinux_2_17_x86_64"


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory, wheels: dict[str, Path]) -> dict[str, Bundle]:
    root = tmp_path_factory.mktemp("bundles")
    made = {}
    for platform, python in (("win_amd64", "3.10"), ("macosx_11_0_arm64", "3.12"), (LINUX, HERE_PY)):
        made[platform] = make_bundle(platform, python, root / platform, wheel=wheels["agent"])
        print(f"\nbundle {platform} / CPython {python}: {made[platform].wheels} wheels, "
              f"{made[platform].size_mb} MB")
    return made


def _files(bundle: Bundle) -> list[str]:
    return sorted(p.name for p in bundle.out.iterdir() if p.name not in ("requirements.txt", "INSTALL.txt"))


def _pinned(bundle: Bundle) -> dict[str, str]:
    lines = (bundle.out / "requirements.txt").read_text().splitlines()
    return {line.split("==")[0]: line.split("==")[1].split()[0] for line in lines}


def _check_folder(bundle: Bundle) -> list[str]:
    files = _files(bundle)
    assert files and all(f.endswith(".whl") for f in files), files  # no source-only package
    assert len(files) == bundle.wheels == len(_pinned(bundle))
    assert not {f.split("-")[0].lower() for f in files} & set(COLLECTOR_ONLY)
    return files


def test_windows_bundle_for_python_3_10(bundles: dict[str, Bundle]) -> None:
    files = _check_folder(bundles["win_amd64"])
    pinned = _pinned(bundles["win_amd64"])
    assert {"tomli", "tzdata", "socle-agent", "psutil", "pydantic-core", "scapy"} <= set(pinned)
    assert any(f.startswith("pydantic_core-") and f.endswith("-cp310-cp310-win_amd64.whl") for f in files)
    assert "win_amd64" in (bundles["win_amd64"].out / "INSTALL.txt").read_text()


def test_macos_arm64_bundle_for_python_3_12(bundles: dict[str, Bundle]) -> None:
    files = _check_folder(bundles["macosx_11_0_arm64"])
    pinned = _pinned(bundles["macosx_11_0_arm64"])
    assert "tomli" not in pinned and "tzdata" not in pinned  # 3.12 has tomllib, macOS its zoneinfo
    core = next(f for f in files if f.startswith("pydantic_core-"))
    assert "-cp312-cp312-macosx_" in core and ("arm64" in core or "universal2" in core)


def test_linux_bundle_installs_offline_and_checks(bundles: dict[str, Bundle], tmp_path: Path) -> None:
    bundle = bundles[LINUX]
    _check_folder(bundle)
    venv = make_venv(tmp_path / "venv")
    growth = install_growth(venv, "--no-index", "--find-links", bundle.out,
                            "-r", bundle.out / "requirements.txt", env=offline_env())
    print(f"\noffline install from the bundle: {len(growth.added)} distributions, +{growth.mb} MB")
    assert "socle-agent" in growth.added and not growth.added & set(COLLECTOR_ONLY)
    config = tmp_path / "agent.toml"
    config.write_text('[probes]\nenabled = ["device"]\n', encoding="utf-8")
    done = sh(venv.bin / "socle-agent", "--state-dir", tmp_path / "state", "--config", config, "check",
              "--no-send", "--uai", "0350122T", "--room", "CM1", "--json", cwd=venv.root, ok=(0, 1))
    report = json.loads(done.stdout)
    assert report["school_uai"] == "0350122T"
    assert [(r["probe"], r["status"]) for r in report["results"]] == [("device", "ok")]
