"""Schema migrations (Alembic): the one path by which the collector's tables are made and changed.

``upgrade(engine)`` brings any database to the newest revision; the app factory
and every admin command call it, so a fresh SQLite file needs no set-up.
On PostgreSQL it holds an advisory lock while it runs, so several collector
processes starting at once migrate one after the other (the later ones find
nothing to do). ``pending_changes(engine)`` lists what the models have that the
migrations do not (a test keeps it empty); ``new_revision`` writes a new
migration file from that difference.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Connection, Engine, inspect, text
from sqlalchemy.types import TypeDecorator

from collector.db import alert_tables, verdict_tables  # noqa: F401 - their tables on Base
from collector.db.models import Base

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: one process per SQLite file there
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("socle.collector.migrations")

HERE = Path(__file__).resolve().parent
# PostgreSQL's advisory locks are the database's, shared by every schema in it: the migrations' lock
# is this number and the schema's own (two collectors in two schemas of one database never wait for
# each other).
ADVISORY_LOCK_KEY = 0x50C1_0001
INITIAL_REVISION = "0001"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration pointing at this package, bound to ``connection``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", str(HERE / "versions"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest revision in this package."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision a database is at (None when it was never migrated)."""
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade_locked(connection: Connection) -> None:
    cfg = alembic_config(connection)
    tables = set(inspect(connection).get_table_names())
    if current_revision(connection) is None and "schools" in tables:
        # A database made by create_all before migrations existed: it holds the first revision.
        log.warning("database has tables but no migration history: marking it at %s", INITIAL_REVISION)
        command.stamp(cfg, INITIAL_REVISION)
    command.upgrade(cfg, "head")


@contextmanager
def _file_lock(engine: Engine) -> Iterator[None]:
    """Serialise migrations of one SQLite file across processes (a lock file beside it)."""
    database = engine.url.database
    if not database or database == ":memory:" or fcntl is None:
        yield
        return
    with open(f"{database}.migrate-lock", "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest revision (safe to call from several processes at once)."""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_lock(:k, hashtext(current_schema()))"),
                               {"k": ADVISORY_LOCK_KEY})
            connection.commit()
            try:
                _upgrade_locked(connection)
                connection.commit()
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:k, hashtext(current_schema()))"),
                                   {"k": ADVISORY_LOCK_KEY})
                connection.commit()
        else:
            with _file_lock(engine):
                _upgrade_locked(connection)
                connection.commit()


def compare_type(context: Any, inspected_column: Any, metadata_column: Any, _inspected_type: Any,
                 metadata_type: Any) -> bool | None:
    """Alembic's type comparison, a decorated type compared as what it is on this database
    (``collector.db.models.JsonText``: text on PostgreSQL, JSON on SQLite); None: Alembic's own."""
    if not isinstance(metadata_type, TypeDecorator):
        return None
    actual = metadata_type.load_dialect_impl(context.dialect)
    return bool(context.impl.compare_type(inspected_column, Column(metadata_column.name, actual)))


def pending_changes(engine: Engine) -> list[Any]:
    """What the ORM models declare that the migrated database lacks (empty when in step)."""
    with engine.connect() as connection:
        ctx = MigrationContext.configure(connection, opts={"compare_type": compare_type})
        return list(compare_metadata(ctx, Base.metadata))


def new_revision(engine: Engine, message: str) -> None:
    """Write a new migration file from the difference between the models and ``engine``'s database."""
    upgrade(engine)
    with engine.connect() as connection:
        command.revision(alembic_config(connection), message=message, autogenerate=True)
