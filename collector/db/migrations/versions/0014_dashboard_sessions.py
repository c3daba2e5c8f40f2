"""dashboard sessions: a browser's sign-in kept on the server

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 16:00:00

The dashboard's cookie held the API token itself, so signing out could not end
it. A sign-in now makes a session row (the hash of a random id), which sign-out,
its lifetime, its idle time or the token's revocation ends.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('dashboard_sessions',
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('token_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['token_id'], ['api_tokens.token_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id_hash')
    )
    with op.batch_alter_table('dashboard_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dashboard_sessions_token_id'), ['token_id'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('dashboard_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dashboard_sessions_token_id'))
    op.drop_table('dashboard_sessions')
