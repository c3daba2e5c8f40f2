"""reports and sample sets: only the indexes something reads

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 17:00:00

Every stored report wrote an entry in five indexes, four of them at a place of
its own (a report id is random; an agent's or a school's reports are spread
among all the others'): one page more to write per report and index, which
ingest paid in its transaction, its commit and the log's checkpoints
(bench/ingest, docs/benchmarks.md). Two of them served no read:

* ``ix_reports_agent_id``: the school page's "latest report of each agent"
  now reads the school's reports newest first through the new index below;
* ``sample_sets``' unique ``report_id``: sets are read by school and time only,
  and ingest writes a set only for a report it has just inserted (the report's
  primary key already refuses a second one).

``ix_reports_school_uai`` becomes ``ix_reports_school_time`` (school, time
taken, agent), which the school's Wi-Fi history and its agents' latest reports
read in order. Reports are never deleted; a retention job would first index
``sample_sets.report_id`` again for the cascade.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def _sample_sets(unique: bool) -> sa.Table:
    """sample_sets as revision 0005 made it, with or without its unique ``report_id``."""
    table = sa.Table(
        'sample_sets', sa.MetaData(),
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('report_id', sa.String(length=36), nullable=False),
        sa.Column('school_uai', sa.String(length=8), nullable=False),
        sa.Column('room', sa.String(length=200), nullable=False),
        sa.Column('device', sa.String(length=220), nullable=False),
        sa.Column('taken_us', sa.BigInteger(), nullable=False),
        sa.Column('layout', sa.String(length=32), nullable=False),
        sa.Column('vals', sa.LargeBinary(), nullable=False),
        sa.Column('times', sa.LargeBinary(), nullable=True),
        sa.Column('limited', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['layout'], ['sample_layouts.digest'], ),
        sa.ForeignKeyConstraint(['report_id'], ['reports.report_id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.Index('ix_sample_sets_school_time', 'school_uai', 'taken_us'))
    if unique:
        table.append_constraint(sa.UniqueConstraint('report_id'))
    return table


def _unique_report_id() -> str | None:
    """The name of sample_sets' unique constraint on report_id (None: unnamed, as on SQLite)."""
    for c in sa.inspect(op.get_bind()).get_unique_constraints('sample_sets'):
        if c['column_names'] == ['report_id']:
            return c['name'] or None
    return None


def upgrade() -> None:
    """Apply this revision."""
    op.drop_index('ix_reports_agent_id', table_name='reports')
    op.drop_index('ix_reports_school_uai', table_name='reports')
    op.create_index('ix_reports_school_time', 'reports', ['school_uai', 'taken_at', 'agent_id'], unique=False)
    if op.get_bind().dialect.name == 'sqlite':  # an unnamed constraint: the table is made again without it
        with op.batch_alter_table('sample_sets', recreate='always', copy_from=_sample_sets(unique=False)):
            pass
    else:
        name = _unique_report_id()
        if name is not None:
            op.drop_constraint(name, 'sample_sets', type_='unique')


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table('sample_sets', recreate='always', copy_from=_sample_sets(unique=True)):
            pass
    else:
        op.create_unique_constraint('sample_sets_report_id_key', 'sample_sets', ['report_id'])
    op.drop_index('ix_reports_school_time', table_name='reports')
    op.create_index('ix_reports_school_uai', 'reports', ['school_uai'], unique=False)
    op.create_index('ix_reports_agent_id', 'reports', ['agent_id'], unique=False)
