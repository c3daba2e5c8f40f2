"""reports' payloads kept in their row on PostgreSQL

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 18:00:00

A nightly report's payload is about 8 kB of JSON, 3 kB once compressed with lz4:
still above PostgreSQL's default target of 2 kB per row, so every payload went to
the table's TOAST relation, with an index entry there too (an eighth of the
server's time per stored report, under perf). With a target of 4,080 bytes a
compressed payload stays in its row; a larger one still goes out of line. Only
rows written from now on are concerned. SQLite: nothing to do.
"""

from __future__ import annotations

from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

TARGET = 4080  # bytes: two compressed nightly payloads per 8 kB page


def upgrade() -> None:
    """Apply this revision."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE reports SET (toast_tuple_target = {TARGET})")


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE reports RESET (toast_tuple_target)")
