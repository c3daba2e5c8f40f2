"""Database engine and sessions: SQLite by default, PostgreSQL (through psycopg) by URL.

The collector runs on these two only: its hot paths speak to their drivers'
own connections (collector/ingest/statements.py, collector/db/streaming.py), so
:func:`make_engine` refuses any other database plainly, rather than later.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from collector.db.migrations import upgrade

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: one process per SQLite file there
    fcntl = None  # type: ignore[assignment]


def sqlite_url(data_dir: Path) -> str:
    """The default database: ``socle.db`` in the data directory."""
    return f"sqlite:///{data_dir / 'socle.db'}"


def lock_file(engine: Engine, name: str) -> str | None:
    """The lock file beside a SQLite database file that its processes ``flock`` for ``name`` (None: not
    a SQLite file, or no ``flock`` here)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:" or fcntl is None:
        return None
    return f"{database}.{name}"


class DatabaseUrlError(ValueError):
    """A database URL the collector cannot use (the message says what it can)."""


def supported_url(url: str) -> str:
    """``url`` as the engine takes it: ``postgres://`` and ``postgresql://`` mean psycopg; a
    :class:`DatabaseUrlError` that says what is supported for any other database."""
    for alias in ("postgres://", "postgresql://"):
        if url.startswith(alias):
            return "postgresql+psycopg://" + url[len(alias):]
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUrlError(f"{url.split('://')[0]!r} is not a database URL: use sqlite:///PATH or "
                         "postgresql://USER@HOST/DATABASE") from None
    if parsed.get_backend_name() == "sqlite" or parsed.drivername == "postgresql+psycopg":
        return url
    raise DatabaseUrlError(f"the collector stores its data in SQLite (sqlite:///PATH) or PostgreSQL "
                     f"(postgresql://USER@HOST/DATABASE), not {parsed.drivername}")


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (:func:`supported_url`); SQLite gets WAL and a busy timeout for concurrent
    writers."""
    url = supported_url(url)
    # Room for every request the API admits at once (collector.edge.limits.MAX_CONCURRENT_API) and more.
    kwargs: dict[str, Any] = {"future": True, "pool_pre_ping": True, "pool_size": 10, "max_overflow": 30}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

    return engine


def create_schema(engine: Engine) -> None:
    """Bring the database to the newest schema through the migrations (collector/db/migrations)."""
    upgrade(engine)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to ``engine``."""
    return sessionmaker(engine, expire_on_commit=False)


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes: they were stored in UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
