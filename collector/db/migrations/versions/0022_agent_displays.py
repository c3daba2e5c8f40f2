"""each agent's latest displays reading kept on its row: the equipment pages read it, not the payloads

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 08:30:00

``agents.displays`` (the displays, kind and label, as JSON text) and
``agents.displays_at`` (the time of the report that gave them): ingest writes them
from each report that has a displays reading newer than the kept one
(collector/ingest/statements.py, collector/db/displays.py). Filled here from
each agent's last five reports, as the pages looked them up before, with the
collector's own reading of a payload (collector.db.displays, so that what is
kept is what ingest keeps).
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

LOOK_BACK = 5  # each agent's reports read for a reading


def upgrade() -> None:
    """Apply this revision."""
    # ADD COLUMN in place (a batch copy of ``agents`` would drop a table others refer to)
    op.add_column('agents', sa.Column('displays_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('agents', sa.Column('displays', sa.Text(), nullable=True))
    _fill()


def _fill() -> None:
    """Each agent's newest displays reading among its last :data:`LOOK_BACK` reports."""
    from collector.db.displays import displays_reading  # the one reading of a payload

    conn = op.get_bind()
    payload = "payload::text" if conn.dialect.name == "postgresql" else "payload"
    rows = conn.exec_driver_sql(
        f"SELECT agent_id, taken_at, {payload} FROM (SELECT agent_id, taken_at, payload, row_number() "
        "OVER (PARTITION BY agent_id ORDER BY taken_at DESC) AS n FROM reports) AS ranked "
        f"WHERE n <= {LOOK_BACK} ORDER BY agent_id, taken_at DESC")
    found: dict[str, tuple[object, str]] = {}
    for agent_id, taken_at, text in rows:
        if agent_id in found or not text:
            continue
        displays = displays_reading(json.loads(text) if isinstance(text, str) else text)
        if displays is not None:
            found[agent_id] = (taken_at, json.dumps([[d.kind, d.label] for d in displays]))
    mark = "%s" if conn.dialect.name == "postgresql" else "?"
    params = [(t, d, a) for a, (t, d) in found.items()]  # the time as read: the column's own form
    sql = f"UPDATE agents SET displays_at = {mark}, displays = {mark} WHERE agent_id = {mark}"
    for i in range(0, len(params), 1000):
        conn.exec_driver_sql(sql, params[i : i + 1000])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_column('agents', 'displays')
    op.drop_column('agents', 'displays_at')
