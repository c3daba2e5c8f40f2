"""how many times each agent's equipment facts changed: the equipment pages keep their judgement until then

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 14:00:00

``agents.equipment_changes``: ingest counts one when a report brings a new
displays reading or brings the machine back within the equipment window (its
first report, or one after a longer silence); ``agent role`` too
(collector/ingest/statements.py, collector/equipment/facts.py ``facts_token``).
0 here: the pages judge every school once after the upgrade anyway (their kept
judgement is per process).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    # ADD COLUMN in place (a batch copy of ``agents`` would drop a table others refer to)
    op.add_column('agents', sa.Column('equipment_changes', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    """Revert this revision."""
    op.drop_column('agents', 'equipment_changes')
