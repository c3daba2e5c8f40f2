"""Alembic environment: runs on the connection the collector hands over (see collector.db.migrations)."""

from __future__ import annotations

from alembic import context

from collector.db import alert_tables, verdict_tables  # noqa: F401 - their tables on Base
from collector.db.migrations import compare_type
from collector.db.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only through collector.db.migrations
    raise RuntimeError("run migrations through collector.db.migrations.upgrade(), not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    compare_type=compare_type,
)
with context.begin_transaction():
    context.run_migrations()
