"""equipment: the role of each agent's machine, and the equipment declared per school and room

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 18:45:00

The equipment rules (E1-E4) count what agents measure (a teacher machine and the
projector it drives) and what an admin or technician declares (a projector on a
cart, tablets without an agent, an MDM, a charging cabinet).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.add_column('agents', sa.Column('role', sa.String(length=8), nullable=True))
    op.create_table('declared_equipment',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('school_uai', sa.String(length=8), nullable=False),
    sa.Column('room', sa.String(length=200), nullable=False),
    sa.Column('item', sa.String(length=24), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('declared_by', sa.String(length=200), nullable=False),
    sa.Column('declared_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['school_uai'], ['schools.uai'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('school_uai', 'room', 'item', name='uq_declared_equipment_item')
    )
    op.create_index(op.f('ix_declared_equipment_school_uai'), 'declared_equipment', ['school_uai'],
                    unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f('ix_declared_equipment_school_uai'), table_name='declared_equipment')
    op.drop_table('declared_equipment')
    op.drop_column('agents', 'role')
