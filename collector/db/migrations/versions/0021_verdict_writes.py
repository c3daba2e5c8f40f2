"""verdict writes and measured figures: one row per transaction that wrote verdicts, so that a process
keeping every school's verdict in memory knows when to read them again; each verdict's download and
upload figures

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 22:05:00

``verdict_writes`` gets a row from every transaction that stores verdicts
(collector/judge/verdicts.py ``write_verdicts``), committed with them. The overview
keeps the table of all verdicts per process and reads it again when the count or
the largest id of these rows moved (collector/judge/verdicts.py ``VerdictCache``);
the sweep keeps the last rows only.

``school_verdicts.measured_*``: the school's download and upload figures by the
first gating rule that has one, and its id (collector/judge/plan.py ``MEASURED``),
which the lists and exports set against the school's contract without reading its
samples. Verdicts stored before are made out of date (``judged_reports`` -1), so
that the next sweep judges them again and fills them, their level and since kept.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('verdict_writes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('school_verdicts') as batch:
        batch.add_column(sa.Column('measured_download_mbps', sa.Float(), nullable=True))
        batch.add_column(sa.Column('measured_download_rule', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('measured_upload_mbps', sa.Float(), nullable=True))
        batch.add_column(sa.Column('measured_upload_rule', sa.String(length=64), nullable=True))
    op.execute("UPDATE school_verdicts SET judged_reports = -1")


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('school_verdicts') as batch:
        for column in ('measured_upload_rule', 'measured_upload_mbps', 'measured_download_rule',
                       'measured_download_mbps'):
            batch.drop_column(column)
    op.drop_table('verdict_writes')
