"""school directory: commune codes, circonscriptions, classes

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-01 09:00:00

The schools table gains what the directory import keeps (INSEE commune code,
circonscription and its code, latitude/longitude, mailbox, priority education,
public or private, opening state) and the number of classes with where it came
from.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0010'
branch_labels = None
depends_on = None

_COLUMNS = (
    ("commune_code", sa.String(length=5)), ("circonscription", sa.String(length=100)),
    ("circonscription_code", sa.String(length=8)), ("latitude", sa.Float()), ("longitude", sa.Float()),
    ("email", sa.String(length=254)), ("priority_education", sa.String(length=4)),
    ("sector", sa.String(length=8)), ("state", sa.String(length=8)), ("classes", sa.Integer()),
    ("classes_origin", sa.String(length=8)), ("classes_file", sa.String(length=200)),
    ("classes_year", sa.Integer()), ("classes_at", sa.DateTime(timezone=True)),
)
_INDEXED = ("commune_code", "circonscription_code")


def upgrade() -> None:
    """Apply this revision."""
    for name, type_ in _COLUMNS:
        op.add_column('schools', sa.Column(name, type_, nullable=True))
    for name in _INDEXED:
        op.create_index(op.f(f'ix_schools_{name}'), 'schools', [name], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    for name in _INDEXED:
        op.drop_index(op.f(f'ix_schools_{name}'), table_name='schools')
    for name, _type in reversed(_COLUMNS):
        op.drop_column('schools', name)
