"""school verdicts: each school's stored level, failing rules and until when they hold

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 07:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('school_verdicts',
    sa.Column('school_uai', sa.String(length=8), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('failing', sa.JSON(), nullable=False),
    sa.Column('outcomes', sa.JSON(), nullable=False),
    sa.Column('evaluated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('profile_hash', sa.String(length=64), nullable=False),
    sa.Column('pupils', sa.Integer(), nullable=True),
    sa.Column('staff', sa.Integer(), nullable=True),
    sa.Column('reports', sa.Integer(), nullable=False),
    sa.Column('judged_reports', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['school_uai'], ['schools.uai'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('school_uai')
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table('school_verdicts')
