"""enrol code uses: codes spent up to N times, revocable, with a room pattern; every use logged

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-02 18:45:00

A school's enrolment code may now enrol a room's worth of machines: it counts
its uses against ``max_uses`` (1 for the codes made before, which count as
used once if they were), can be revoked, and may carry the hostname pattern
that gives a machine its room. ``enroll_uses`` keeps each use: the agent it
made, when, from which address and host, and the school a moved machine left.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table('enroll_codes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_uses', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('uses', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('room_pattern', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('label', sa.String(length=200), nullable=True))
    op.execute("UPDATE enroll_codes SET uses = 1 WHERE used_at IS NOT NULL")
    op.create_table('enroll_uses',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('agent_id', sa.String(length=36), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('hostname', sa.String(length=200), nullable=False),
    sa.Column('instance_id', sa.String(length=36), nullable=False),
    sa.Column('room', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.Column('moved_from', sa.String(length=8), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.agent_id'], ),
    sa.ForeignKeyConstraint(['code_hash'], ['enroll_codes.code_hash'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('enroll_uses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enroll_uses_code_hash'), ['code_hash'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('enroll_uses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enroll_uses_code_hash'))
    op.drop_table('enroll_uses')
    with op.batch_alter_table('enroll_codes', schema=None) as batch_op:
        batch_op.drop_column('label')
        batch_op.drop_column('room_pattern')
        batch_op.drop_column('revoked_at')
        batch_op.drop_column('uses')
        batch_op.drop_column('max_uses')
