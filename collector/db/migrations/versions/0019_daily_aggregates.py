"""daily aggregates: what stays of a school's reports once their retention has passed

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 19:00:00

``socle-collector purge`` deletes the reports (payloads and sample sets) older than
the retention and keeps, per school, UTC day, metric and room, the count, sum,
median, minimum and maximum of their samples (docs/privacy.md); ``purge_state``
remembers up to when neighbours' Wi-Fi names were erased, so a night's purge reads
only the reports that aged since.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('daily_aggregates',
    sa.Column('school_uai', sa.String(length=8), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('metric', sa.String(length=100), nullable=False),
    sa.Column('room', sa.String(length=200), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.Column('median', sa.Float(), nullable=False),
    sa.Column('min', sa.Float(), nullable=False),
    sa.Column('max', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['school_uai'], ['schools.uai'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('school_uai', 'day', 'metric', 'room')
    )
    op.create_table('purge_state',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table('purge_state')
    op.drop_table('daily_aggregates')
