"""school columns: each school's recent sample sets as the judge reads them, kept by the sweep

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 12:00:00

A cache (collector/judge/kept.py): it starts empty and the sweep fills it.
On PostgreSQL a row of a few kilobytes stays in the table, uncompressed (packed
doubles do not compress), so reading it needs no TOAST lookup.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('school_columns',
    sa.Column('school_uai', sa.String(length=8), nullable=False),
    sa.Column('metrics', sa.String(length=32), nullable=False),
    sa.Column('since_us', sa.BigInteger(), nullable=False),
    sa.Column('reports', sa.Integer(), nullable=False),
    sa.Column('sets', sa.Integer(), nullable=False),
    sa.Column('times', sa.LargeBinary(), nullable=False),
    sa.Column('present', sa.LargeBinary(), nullable=False),
    sa.Column('vals', sa.LargeBinary(), nullable=False),
    sa.Column('extra', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['school_uai'], ['schools.uai'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('school_uai')
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE school_columns SET (toast_tuple_target = 8160)")
        for column in ("times", "present", "vals"):
            op.execute(f"ALTER TABLE school_columns ALTER COLUMN {column} SET STORAGE EXTERNAL")


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table('school_columns')
