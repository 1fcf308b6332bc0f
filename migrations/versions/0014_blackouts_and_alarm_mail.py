"""blackout windows of endpoints and bridges; alarm e-mail stages; outbox mail about no meeting

Revision ID: 0014
Revises: 0011
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from confbridge.db import UTCDateTime

revision: str = "0014"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'blackouts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('endpoint_id', sa.Integer(), nullable=True),
        sa.Column('bridge_name', sa.String(length=64), nullable=True),
        sa.Column('start', UTCDateTime(), nullable=False),
        sa.Column('end', UTCDateTime(), nullable=False),
        sa.Column('reason', sa.String(length=300), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.CheckConstraint('(endpoint_id IS NULL) <> (bridge_name IS NULL)', name=op.f('ck_blackouts_one_target')),
        sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_blackouts_created_by_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['endpoint_id'], ['endpoints.id'], name=op.f('fk_blackouts_endpoint_id_endpoints'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_blackouts')),
    )
    op.create_index('ix_blackouts_endpoint_window', 'blackouts', ['endpoint_id', 'start', 'end'], unique=False)
    op.create_index('ix_blackouts_bridge_window', 'blackouts', ['bridge_name', 'start', 'end'], unique=False)
    op.create_table(
        'alarm_mails',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('alarm_id', sa.Integer(), nullable=False),
        sa.Column('stage', sa.String(length=20), nullable=False),
        sa.Column('recipients', sa.JSON(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['alarm_id'], ['alarms.id'], name=op.f('fk_alarm_mails_alarm_id_alarms'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alarm_mails')),
        sa.UniqueConstraint('alarm_id', 'stage', name=op.f('uq_alarm_mails_alarm_id')),
    )
    op.create_index(op.f('ix_alarm_mails_alarm_id'), 'alarm_mails', ['alarm_id'], unique=False)
    with op.batch_alter_table('invitation_outbox') as batch:
        batch.alter_column('meeting_id', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM invitation_outbox WHERE meeting_id IS NULL")
    with op.batch_alter_table('invitation_outbox') as batch:
        batch.alter_column('meeting_id', existing_type=sa.Integer(), nullable=False)
    op.drop_index(op.f('ix_alarm_mails_alarm_id'), table_name='alarm_mails')
    op.drop_table('alarm_mails')
    op.drop_index('ix_blackouts_bridge_window', table_name='blackouts')
    op.drop_index('ix_blackouts_endpoint_window', table_name='blackouts')
    op.drop_table('blackouts')
