"""reports and audit: a leg's final outcome (first connect, seconds connected, drops, failure code),
the audit log's actor name and source address, indexes for period queries

Revision ID: 0010
Revises: 0009
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from confbridge.db import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('call_legs') as batch:
        batch.add_column(sa.Column('first_connected_at', UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('connected_seconds', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('drops', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('fail_reason', sa.String(length=20), nullable=True))
        batch.add_column(sa.Column('first_connect_attempt', sa.Integer(), nullable=True))
    # Legs recorded before this revision: a connect time is the best first-connect time known.
    op.execute("UPDATE call_legs SET first_connected_at = connected_at WHERE connected_at IS NOT NULL")
    with op.batch_alter_table('audit_log') as batch:
        batch.add_column(sa.Column('actor', sa.String(length=120), nullable=True))
        batch.add_column(sa.Column('source_address', sa.String(length=64), nullable=True))
    op.create_index(op.f('ix_audit_log_action'), 'audit_log', ['action'], unique=False)
    op.create_index(op.f('ix_conference_runs_planned_start'), 'conference_runs', ['planned_start'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_conference_runs_planned_start'), table_name='conference_runs')
    op.drop_index(op.f('ix_audit_log_action'), table_name='audit_log')
    with op.batch_alter_table('audit_log') as batch:
        batch.drop_column('source_address')
        batch.drop_column('actor')
    with op.batch_alter_table('call_legs') as batch:
        batch.drop_column('first_connect_attempt')
        batch.drop_column('fail_reason')
        batch.drop_column('drops')
        batch.drop_column('connected_seconds')
        batch.drop_column('first_connected_at')
