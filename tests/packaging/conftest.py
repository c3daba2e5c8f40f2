"""Shared for the packaging tests: the two wheels, built once per run from this tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.packaging.support import build_wheels


@pytest.fixture(scope="session")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """{'agent': socle_agent-….whl, 'collector': socle_collector-….whl}."""
    return build_wheels(tmp_path_factory.mktemp("wheels"))
