"""reports' payloads as text on PostgreSQL

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 17:30:00

PostgreSQL's ``json`` type parses a value on every insert to check it is JSON:
about a sixth of the server's time per stored report (a 8 kB payload), for a
payload that the collector has just validated against the wire contract (the
report's own JSON as received, or written from it). The column becomes ``text``
(the model reads and writes it as JSON: ``collector.db.models.JsonText``); its
values are unchanged, and still compressed with lz4 where the server has it
(revision 0007). The table is written again once, in the upgrade. SQLite stores
JSON as text already: nothing to do there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def _has_lz4() -> bool:
    values = op.get_bind().scalar(sa.text(
        "SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'"))
    return bool(values) and "lz4" in values


def _to(kind: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE reports ALTER COLUMN payload TYPE {kind} USING payload::{kind}")
    if _has_lz4():  # a new type starts again from the server's default compression
        op.execute("ALTER TABLE reports ALTER COLUMN payload SET COMPRESSION lz4")


def upgrade() -> None:
    """Apply this revision."""
    _to("text")


def downgrade() -> None:
    """Revert this revision."""
    _to("json")
