"""agent identity: incarnations (cloned images) and rotated-out credentials

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 06:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('agent_incarnations',
    sa.Column('agent_id', sa.String(length=36), nullable=False),
    sa.Column('incarnation', sa.String(length=64), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('clone_detected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('replaced_by', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.agent_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('agent_id', 'incarnation')
    )
    op.create_table('agent_previous_tokens',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('agent_id', sa.String(length=36), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.agent_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash')
    )
    with op.batch_alter_table('agent_previous_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_previous_tokens_agent_id'), ['agent_id'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('agent_previous_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_previous_tokens_agent_id'))
    op.drop_table('agent_previous_tokens')
    op.drop_table('agent_incarnations')
