"""health writes: the row /healthz writes to find out whether the database takes writes

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 17:00:00

A database that answers may still refuse every write (a full disk): /healthz
now writes one row and says so when that fails.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('health_writes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table('health_writes')
