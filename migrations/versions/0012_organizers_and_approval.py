"""booking on behalf, co-organisers and approval: meetings.booked_by_id and approval columns, the
meeting_co_organisers table, endpoints.requires_approval

Revision ID: 0012
Revises: 0013
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from confbridge.db import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('endpoints') as batch:
        batch.add_column(sa.Column('requires_approval', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('meetings') as batch:
        batch.add_column(sa.Column('booked_by_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('approval', sa.String(length=20), nullable=True))
        batch.add_column(sa.Column('approval_by_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('approval_at', UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('approval_reason', sa.Text(), nullable=True))
        batch.create_index(batch.f('ix_meetings_approval'), ['approval'], unique=False)
        batch.create_foreign_key(batch.f('fk_meetings_booked_by_id_users'), 'users', ['booked_by_id'], ['id'])
        batch.create_foreign_key(batch.f('fk_meetings_approval_by_id_users'), 'users', ['approval_by_id'], ['id'])
    # Meetings booked before this revision were booked by their organiser.
    op.execute("UPDATE meetings SET booked_by_id = organiser_id")
    op.create_table(
        'meeting_co_organisers',
        sa.Column('meeting_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'],
                                name=op.f('fk_meeting_co_organisers_meeting_id_meetings'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_meeting_co_organisers_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('meeting_id', 'user_id', name=op.f('pk_meeting_co_organisers')),
    )


def downgrade() -> None:
    op.drop_table('meeting_co_organisers')
    with op.batch_alter_table('meetings') as batch:
        batch.drop_constraint(batch.f('fk_meetings_approval_by_id_users'), type_='foreignkey')
        batch.drop_constraint(batch.f('fk_meetings_booked_by_id_users'), type_='foreignkey')
        batch.drop_index(batch.f('ix_meetings_approval'))
        batch.drop_column('approval_reason')
        batch.drop_column('approval_at')
        batch.drop_column('approval_by_id')
        batch.drop_column('approval')
        batch.drop_column('booked_by_id')
    with op.batch_alter_table('endpoints') as batch:
        batch.drop_column('requires_approval')
