"""verdict history and alerts: each change of a school's level and of each rule's outcome; since when;
who is told, and the outbox of messages to deliver

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 18:40:00

``verdict_history`` keeps every change the judges write (collector/judge/history.py):
from what, to what, when, why (the school's data, a new profile version, silence,
heard again) and the evidence at that time. ``school_verdicts.since`` is when the
school's current level began: the overview sorts and filters by it. Verdicts
stored before this revision take their last judging as their ``since``.

``alert_subscriptions`` (who, which scope, e-mail or webhook, at once or daily),
``alert_outbox`` (the messages to deliver, durable) and ``alert_deliveries`` (every
attempt): collector/alerts/.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table('school_verdicts') as batch:
        batch.add_column(sa.Column('since', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE school_verdicts SET since = evaluated_at")
    op.create_table('verdict_history',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('school_uai', sa.String(length=8), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('was', sa.String(length=16), nullable=True),
    sa.Column('became', sa.String(length=16), nullable=True),
    sa.Column('cause', sa.String(length=8), nullable=False),
    sa.Column('profile_hash', sa.String(length=64), nullable=False),
    sa.Column('evidence', sa.Text().with_variant(sa.JSON(), 'sqlite'), nullable=True),
    sa.Column('alerted', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['school_uai'], ['schools.uai'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_verdict_history_school_at', 'verdict_history', ['school_uai', 'at'])
    op.create_index(op.f('ix_verdict_history_alerted'), 'verdict_history', ['alerted'])
    _alert_tables()


def _alert_tables() -> None:
    """The subscriptions, the outbox and the delivery log."""
    op.create_table('alert_subscriptions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('token_id', sa.String(length=36), nullable=False),
    sa.Column('scope', sa.String(length=100), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('target', sa.String(length=500), nullable=False),
    sa.Column('secret', sa.String(length=128), nullable=True),
    sa.Column('digest', sa.Boolean(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['token_id'], ['api_tokens.token_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_alert_subscriptions_token_id'), 'alert_subscriptions', ['token_id'])
    op.create_table('alert_outbox',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changes', sa.Text().with_variant(sa.JSON(), 'sqlite'), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['subscription_id'], ['alert_subscriptions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_alert_outbox_subscription_id'), 'alert_outbox', ['subscription_id'])
    op.create_index('ix_alert_outbox_due', 'alert_outbox', ['state', 'next_at'])
    op.create_table('alert_deliveries',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('outbox_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['outbox_id'], ['alert_outbox.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_alert_deliveries_outbox_id'), 'alert_deliveries', ['outbox_id'])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table('alert_deliveries')
    op.drop_table('alert_outbox')
    op.drop_table('alert_subscriptions')
    op.drop_index(op.f('ix_verdict_history_alerted'), table_name='verdict_history')
    op.drop_index('ix_verdict_history_school_at', table_name='verdict_history')
    op.drop_table('verdict_history')
    with op.batch_alter_table('school_verdicts') as batch:
        batch.drop_column('since')
