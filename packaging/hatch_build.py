"""Hatch build hook: ship folders of the repository root in a wheel built from packaging/<dist>/.

Socle is one source tree and two distributions (docs/deployment.md): the agent's wheel
holds agent/, probes/ and config/, the collector's holds collector/. Their pyproject.toml
files live in packaging/agent/ and packaging/collector/, below the folders they ship, so
this hook maps each file of the listed folders (``packages`` in the hook's table) to the
same path inside the wheel, data files included (profiles, templates, migrations), caches
left out. Editable installs do not use it: ``dev-mode-dirs`` puts the repository root on
sys.path instead.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

_SKIP_DIRS = {"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
_SKIP_SUFFIXES = {".pyc", ".pyo"}


def shipped_files(repo: Path, packages: list[str]) -> dict[str, str]:
    """Source path -> path in the wheel, for every file below ``repo/<package>``."""
    out: dict[str, str] = {}
    for package in packages:
        top = repo / package
        if not (top / "__init__.py").is_file():
            raise ValueError(f"{top}: not a Python package (no __init__.py)")
        for folder, dirs, files in os.walk(top):
            dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
            for name in sorted(files):
                path = Path(folder) / name
                if path.suffix not in _SKIP_SUFFIXES:
                    out[str(path)] = path.relative_to(repo).as_posix()
    return out


class ShipRepoFolders(BuildHookInterface):  # type: ignore[misc]
    """Force-include the repository folders named by ``packages`` into the wheel."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        repo = Path(self.root).resolve().parents[1]
        build_data["force_include"].update(shipped_files(repo, list(self.config.get("packages", []))))
