"""Where the collector keeps its data and which database it uses."""

from __future__ import annotations

import os
from pathlib import Path

from collector.db.engine import sqlite_url
from config.collector_settings import CollectorSettings


def default_data_dir() -> Path:
    """``SOCLE_COLLECTOR_HOME``, else /var/lib/socle-collector for root, else the user's data dir."""
    env = os.environ.get("SOCLE_COLLECTOR_HOME")
    if env:
        return Path(env)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return Path("/var/lib/socle-collector")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "socle-collector"


def resolve_settings(settings: CollectorSettings, db_flag: str | None = None,
                     data_dir_flag: Path | None = None) -> CollectorSettings:
    """Apply the environment, then command-line flags, over the settings file."""
    db_url = db_flag or os.environ.get("SOCLE_DB_URL") or settings.db_url
    data_dir = data_dir_flag or settings.data_dir
    return settings.model_copy(update={"db_url": db_url, "data_dir": data_dir})


def database_url(settings: CollectorSettings) -> str:
    """The settings' URL, else SQLite in the data directory (created)."""
    if settings.db_url:
        return settings.db_url
    data_dir = settings.data_dir or default_data_dir()
    data_dir.mkdir(parents=True, exist_ok=True)
    return sqlite_url(data_dir)
