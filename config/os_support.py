"""The dated table of operating-system support (rule E7), and lookups in it."""

from __future__ import annotations

from datetime import date
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from config.loading import load_toml

BUNDLED = "os_support.toml"
_ENTERPRISE_EDITIONS = ("enterprise", "education")


class OsSupportRow(BaseModel):
    """One OS version and the last day its vendor supports it."""

    model_config = ConfigDict(extra="forbid")

    os: str = Field(min_length=1)
    version: str = Field(min_length=1)
    label: str
    ends: date
    ends_enterprise: date | None = None


class OsSupportTable(BaseModel):
    """The whole table, with the day it was last checked."""

    model_config = ConfigDict(extra="forbid")

    checked: date
    os: list[OsSupportRow] = Field(default_factory=list)


def load_os_support(path: Path | None = None) -> OsSupportTable:
    """Load a table file, or the bundled one when ``path`` is None."""
    if path is None:
        ref = resources.files("config") / BUNDLED
        with resources.as_file(ref) as real:
            return load_toml(Path(real), OsSupportTable)
    return load_toml(path, OsSupportTable)


def find_row(table: OsSupportTable, os_name: str, version: str) -> OsSupportRow | None:
    """The row for this OS and version (equal, or the longest prefix followed by ``.``)."""
    best: OsSupportRow | None = None
    for row in table.os:
        if row.os.casefold() != os_name.casefold():
            continue
        matches = version == row.version or version.startswith(row.version + ".")
        if matches and (best is None or len(row.version) > len(best.version)):
            best = row
    return best


def support_ends(row: OsSupportRow, edition: str | None) -> date:
    """The last day of support for an edition (Enterprise and Education differ on Windows)."""
    if row.ends_enterprise and edition and edition.casefold().startswith(_ENTERPRISE_EDITIONS):
        return row.ends_enterprise
    return row.ends
