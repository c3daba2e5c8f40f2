"""reports' payloads compressed with lz4 on PostgreSQL

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 15:00:00

A report's payload (about 8 kB of JSON) is compressed by PostgreSQL when it is
stored; with the default pglz that took about a quarter of a stored report's time
in the ingest writer's transaction (bench/ingest), with lz4 a fraction of it.
Only new payloads are written with lz4; old ones stay readable as they are. A
server built without lz4 keeps pglz. SQLite stores payloads as they are: nothing
to do there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def _has_lz4() -> bool:
    values = op.get_bind().scalar(sa.text(
        "SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'"))
    return bool(values) and "lz4" in values


def upgrade() -> None:
    """Apply this revision."""
    if op.get_bind().dialect.name == "postgresql" and _has_lz4():
        op.execute("ALTER TABLE reports ALTER COLUMN payload SET COMPRESSION lz4")


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name == "postgresql" and _has_lz4():
        op.execute("ALTER TABLE reports ALTER COLUMN payload SET COMPRESSION pglz")
