"""school contracts: each school's internet provider, technology and contracted rates

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('school_contracts',
    sa.Column('school_uai', sa.String(length=8), nullable=False),
    sa.Column('provider', sa.String(length=100), nullable=False),
    sa.Column('technology', sa.String(length=16), nullable=False),
    sa.Column('download_mbps', sa.Float(), nullable=False),
    sa.Column('upload_mbps', sa.Float(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['school_uai'], ['schools.uai'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('school_uai')
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table('school_contracts')
