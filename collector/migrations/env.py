"""Alembic environment: runs on the connection the collector hands over (see collector.migrations)."""

from __future__ import annotations

from alembic import context

from collector.migrations import compare_type
from collector.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only through collector.migrations
    raise RuntimeError("run migrations through collector.migrations.upgrade(), not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    compare_type=compare_type,
)
with context.begin_transaction():
    context.run_migrations()
