"""launch engine tables: conference runs, call legs, the conference timeline, the scheduler lease

Revision ID: 0002
Revises: 0001
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from confbridge.db import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('scheduler_lease',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('holder', sa.String(length=120), nullable=False),
    sa.Column('token', sa.Integer(), nullable=False),
    sa.Column('expires_at', UTCDateTime(), nullable=False),
    sa.Column('acquired_at', UTCDateTime(), nullable=False),
    sa.Column('renewed_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduler_lease'))
    )
    op.create_table('conference_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurrence_id', sa.Integer(), nullable=True),
    sa.Column('meeting_id', sa.Integer(), nullable=True),
    sa.Column('bridge_name', sa.String(length=64), nullable=False),
    sa.Column('conference_name', sa.String(length=31), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('planned_start', UTCDateTime(), nullable=False),
    sa.Column('planned_end', UTCDateTime(), nullable=False),
    sa.Column('conference_ready', sa.Boolean(), nullable=False),
    sa.Column('first_call_at', UTCDateTime(), nullable=True),
    sa.Column('lateness_ms', sa.Integer(), nullable=True),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('retry_at', UTCDateTime(), nullable=True),
    sa.Column('last_reason', sa.Text(), nullable=True),
    sa.Column('started_at', UTCDateTime(), nullable=True),
    sa.Column('live_at', UTCDateTime(), nullable=True),
    sa.Column('ended_at', UTCDateTime(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_conference_runs_meeting_id_meetings'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['occurrence_id'], ['occurrences.id'], name=op.f('fk_conference_runs_occurrence_id_occurrences'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conference_runs')),
    sa.UniqueConstraint('occurrence_id', name=op.f('uq_conference_runs_occurrence_id'))
    )
    op.create_index(op.f('ix_conference_runs_meeting_id'), 'conference_runs', ['meeting_id'], unique=False)
    op.create_index('ix_conference_runs_state_planned_start', 'conference_runs', ['state', 'planned_start'], unique=False)
    op.create_table('call_legs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('endpoint_id', sa.Integer(), nullable=False),
    sa.Column('participant_name', sa.String(length=31), nullable=False),
    sa.Column('protocol', sa.String(length=8), nullable=False),
    sa.Column('address', sa.String(length=255), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('wanted', sa.Boolean(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_reason', sa.Text(), nullable=True),
    sa.Column('next_attempt_at', UTCDateTime(), nullable=True),
    sa.Column('on_bridge', sa.Boolean(), nullable=False),
    sa.Column('audio_muted', sa.Boolean(), nullable=False),
    sa.Column('video_muted', sa.Boolean(), nullable=False),
    sa.Column('connected_at', UTCDateTime(), nullable=True),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['endpoint_id'], ['endpoints.id'], name=op.f('fk_call_legs_endpoint_id_endpoints')),
    sa.ForeignKeyConstraint(['run_id'], ['conference_runs.id'], name=op.f('fk_call_legs_run_id_conference_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_legs')),
    sa.UniqueConstraint('run_id', 'endpoint_id', name=op.f('uq_call_legs_run_id'))
    )
    op.create_table('conference_timeline',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('outcome', sa.String(length=40), nullable=True),
    sa.Column('endpoint_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['conference_runs.id'], name=op.f('fk_conference_timeline_run_id_conference_runs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_conference_timeline_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conference_timeline'))
    )
    op.create_index('ix_conference_timeline_run_id_at', 'conference_timeline', ['run_id', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_conference_timeline_run_id_at', table_name='conference_timeline')
    op.drop_table('conference_timeline')
    op.drop_table('call_legs')
    op.drop_index('ix_conference_runs_state_planned_start', table_name='conference_runs')
    op.drop_index(op.f('ix_conference_runs_meeting_id'), table_name='conference_runs')
    op.drop_table('conference_runs')
    op.drop_table('scheduler_lease')
