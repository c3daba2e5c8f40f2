"""verdict history: each change of a school's level and of each rule's outcome; since when

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 18:40:00

``verdict_history`` keeps every change the judges write (collector/judge/history.py):
from what, to what, when, why (the school's data, a new profile version, silence,
heard again) and the evidence at that time. ``school_verdicts.since`` is when the
school's current level began: the overview sorts and filters by it. Verdicts
stored before this revision take their last judging as their ``since``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table('school_verdicts') as batch:
        batch.add_column(sa.Column('since', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE school_verdicts SET since = evaluated_at")
    op.create_table('verdict_history',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('school_uai', sa.String(length=8), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('was', sa.String(length=16), nullable=True),
    sa.Column('became', sa.String(length=16), nullable=True),
    sa.Column('cause', sa.String(length=8), nullable=False),
    sa.Column('profile_hash', sa.String(length=64), nullable=False),
    sa.Column('evidence', sa.Text().with_variant(sa.JSON(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['school_uai'], ['schools.uai'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_verdict_history_school_at', 'verdict_history', ['school_uai', 'at'])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index('ix_verdict_history_school_at', table_name='verdict_history')
    op.drop_table('verdict_history')
    with op.batch_alter_table('school_verdicts') as batch:
        batch.drop_column('since')
