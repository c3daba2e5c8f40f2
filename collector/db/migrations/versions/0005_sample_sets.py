"""sample sets: a report's samples stored as one row of packed values instead of one row each

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 09:00:00

The samples already stored move to the new table, report by report, then the
``measurements`` table goes. The downgrade does the reverse.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from array import array
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)

_measurements = sa.table(
    'measurements', sa.column('id', sa.Integer), sa.column('report_id', sa.String),
    sa.column('school_uai', sa.String), sa.column('room', sa.String), sa.column('device', sa.String),
    sa.column('metric', sa.String), sa.column('value', sa.Float),
    sa.column('taken_at', sa.DateTime(timezone=True)), sa.column('limited_by', sa.Text))
_reports = sa.table('reports', sa.column('report_id', sa.String),
                    sa.column('taken_at', sa.DateTime(timezone=True)))
_layouts = sa.table('sample_layouts', sa.column('digest', sa.String), sa.column('metrics', sa.Text))
_sets = sa.table(
    'sample_sets', sa.column('report_id', sa.String), sa.column('school_uai', sa.String),
    sa.column('room', sa.String), sa.column('device', sa.String), sa.column('taken_us', sa.BigInteger),
    sa.column('layout', sa.String), sa.column('vals', sa.LargeBinary), sa.column('times', sa.LargeBinary),
    sa.column('limited', sa.Text))


def _us(at: datetime) -> int:
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
    return (at - _EPOCH) // _US


def _doubles(values: list[float]) -> bytes:
    a = array('d', values)
    if array('H', [1]).tobytes()[0] == 0:  # big-endian machine: stored little-endian
        a.byteswap()
    return a.tobytes()


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('sample_layouts',
    sa.Column('digest', sa.String(length=32), nullable=False),
    sa.Column('metrics', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('digest')
    )
    op.create_table('sample_sets',
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
    sa.UniqueConstraint('report_id')
    )
    op.create_index('ix_sample_sets_school_time', 'sample_sets', ['school_uai', 'taken_us'], unique=False)
    _move_samples()
    with op.batch_alter_table('measurements', schema=None) as batch_op:
        batch_op.drop_index('ix_measurements_school_metric_time')
        batch_op.drop_index(batch_op.f('ix_measurements_report_id'))
    op.drop_table('measurements')


def _move_samples() -> None:
    """Every stored sample into its report's set (in the order they were stored)."""
    conn = op.get_bind()
    taken = dict(conn.execute(sa.select(_reports.c.report_id, _reports.c.taken_at)).all())
    rows = conn.execute(sa.select(_measurements).order_by(_measurements.c.report_id, _measurements.c.id))
    known: set[str] = set()
    batch: list[dict[str, object]] = []
    for rid, group in itertools.groupby(rows, key=lambda r: r.report_id):
        samples = list(group)
        first = samples[0]
        at = _us(taken[rid]) if rid in taken else _us(first.taken_at)
        metrics = tuple(s.metric for s in samples)
        names = "\n".join(metrics)
        digest = hashlib.sha256(names.encode()).hexdigest()[:32]
        if digest not in known:
            known.add(digest)
            if conn.execute(sa.select(_layouts.c.digest).where(_layouts.c.digest == digest)).first() is None:
                conn.execute(_layouts.insert().values(digest=digest, metrics=names))
        each = [_us(s.taken_at) for s in samples]
        limited = {str(i): s.limited_by for i, s in enumerate(samples) if s.limited_by is not None}
        batch.append({'report_id': rid, 'school_uai': first.school_uai, 'room': first.room,
                      'device': first.device, 'taken_us': at, 'layout': digest,
                      'vals': _doubles([s.value for s in samples]),
                      'times': None if all(t == at for t in each) else array('q', each).tobytes(),
                      'limited': json.dumps(limited) if limited else None})
        if len(batch) >= 1000:
            conn.execute(_sets.insert(), batch)
            batch = []
    if batch:
        conn.execute(_sets.insert(), batch)


def downgrade() -> None:
    """Revert this revision."""
    op.create_table('measurements',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('report_id', sa.String(length=36), nullable=False),
    sa.Column('school_uai', sa.String(length=8), nullable=False),
    sa.Column('room', sa.String(length=200), nullable=False),
    sa.Column('device', sa.String(length=36), nullable=False),
    sa.Column('metric', sa.String(length=100), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('limited_by', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['report_id'], ['reports.report_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('measurements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_measurements_report_id'), ['report_id'], unique=False)
        batch_op.create_index('ix_measurements_school_metric_time', ['school_uai', 'metric', 'taken_at'],
                              unique=False)
    conn = op.get_bind()
    names = {d: m.split("\n") for d, m in conn.execute(sa.select(_layouts.c.digest, _layouts.c.metrics))}
    batch: list[dict[str, object]] = []
    for s in conn.execute(sa.select(_sets).order_by(_sets.c.report_id)):
        values = array('d')
        values.frombytes(bytes(s.vals))
        if array('H', [1]).tobytes()[0] == 0:
            values.byteswap()
        each = array('q', bytes(s.times)) if s.times is not None else None
        causes = json.loads(s.limited) if s.limited else {}
        for i, metric in enumerate(names[s.layout]):
            at = s.taken_us if each is None else each[i]
            batch.append({'report_id': s.report_id, 'school_uai': s.school_uai, 'room': s.room,
                          'device': s.device, 'metric': metric, 'value': values[i],
                          'taken_at': _EPOCH + timedelta(microseconds=at), 'limited_by': causes.get(str(i))})
        if len(batch) >= 5000:
            conn.execute(_measurements.insert(), batch)
            batch = []
    if batch:
        conn.execute(_measurements.insert(), batch)
    op.drop_index('ix_sample_sets_school_time', table_name='sample_sets')
    op.drop_table('sample_sets')
    op.drop_table('sample_layouts')
