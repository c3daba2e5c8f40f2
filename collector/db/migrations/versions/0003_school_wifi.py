"""school wifi: a school's own SSIDs and teaching hours (loi Abeille, W1)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 08:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('school_wifi',
    sa.Column('school_uai', sa.String(length=8), nullable=False),
    sa.Column('ssids', sa.JSON(), nullable=False),
    sa.Column('teaching_hours', sa.String(length=200), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['school_uai'], ['schools.uai'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('school_uai')
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table('school_wifi')
