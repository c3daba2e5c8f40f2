"""What the agent needs from Python 3.11, for Python 3.10 too (Ubuntu 22.04 ships 3.10).

The agent's distribution supports Python >= 3.10; the collector needs 3.11. Modules of
``agent/``, ``probes/`` and ``config/`` take these three names from here instead of
``datetime.UTC``, ``enum.StrEnum`` and ``tomllib``; tests/config/test_compat.py runs
vermin over those folders so a 3.11-only use does not creep back in.
"""

from __future__ import annotations

import datetime as _dt
import enum
import sys

UTC = _dt.timezone.utc  # datetime.UTC (3.11) is this very object


class BackportStrEnum(str, enum.Enum):
    """enum.StrEnum of 3.11 for 3.10: members are str, and str()/format() give the value."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return str(self.value).__format__(spec)

    @staticmethod
    def _generate_next_value_(name: str, start: int, count: int, last_values: list[object]) -> str:
        return name.lower()


if sys.version_info >= (3, 11):
    from enum import StrEnum as StrEnum  # novermin: the 3.11 branch

    import tomllib as tomllib  # novermin: the 3.11 branch
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

    StrEnum = BackportStrEnum

__all__ = ["UTC", "StrEnum", "tomllib"]
