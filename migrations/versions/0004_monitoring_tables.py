"""monitoring tables: current endpoint status and its history (uptime reports)

Revision ID: 0004
Revises: 0003
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from confbridge.db import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('endpoint_status',
    sa.Column('endpoint_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('since', UTCDateTime(), nullable=False),
    sa.Column('checked_at', UTCDateTime(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=True),
    sa.Column('packet_loss', sa.String(length=10), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['endpoint_id'], ['endpoints.id'],
                            name=op.f('fk_endpoint_status_endpoint_id_endpoints'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('endpoint_id', name=op.f('pk_endpoint_status'))
    )
    op.create_table('endpoint_status_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('endpoint_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('started_at', UTCDateTime(), nullable=False),
    sa.Column('ended_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['endpoint_id'], ['endpoints.id'],
                            name=op.f('fk_endpoint_status_history_endpoint_id_endpoints'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_endpoint_status_history'))
    )
    op.create_index('ix_endpoint_status_history_endpoint_started', 'endpoint_status_history',
                    ['endpoint_id', 'started_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_endpoint_status_history_endpoint_started', table_name='endpoint_status_history')
    op.drop_table('endpoint_status_history')
    op.drop_table('endpoint_status')
