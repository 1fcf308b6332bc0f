"""invitation outbox and feed tables

Revision ID: 0003
Revises: 0002

The invitation outbox (one row per e-mail, with its delivery state).  Feed tokens need no table of
their own: they are ``api_tokens`` rows with purpose "feed" and a scope.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import confbridge.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invitation_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("occurrence_start", confbridge.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("recipient_name", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("message_id", sa.String(length=300), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", confbridge.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", confbridge.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", confbridge.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_invitation_outbox_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitation_outbox")),
    )
    with op.batch_alter_table("invitation_outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invitation_outbox_meeting_id"), ["meeting_id"], unique=False
        )
        batch_op.create_index("ix_invitation_outbox_status_due", ["status", "next_attempt_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("invitation_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_invitation_outbox_status_due")
        batch_op.drop_index(batch_op.f("ix_invitation_outbox_meeting_id"))
    op.drop_table("invitation_outbox")
