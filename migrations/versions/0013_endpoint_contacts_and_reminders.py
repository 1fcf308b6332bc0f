"""endpoint contacts and reminders: endpoints.contact_name/contact_email/contact_phone, meetings.on_holidays,
contact_reminders (one row per occurrence and contact: the reminder e-mail is queued once)

Revision ID: 0013
Revises: 0016
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from confbridge.db import UTCDateTime

revision: str = "0013"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("endpoints") as batch:
        batch.add_column(sa.Column("contact_name", sa.String(length=200), nullable=False, server_default=""))
        batch.add_column(sa.Column("contact_email", sa.String(length=254), nullable=False, server_default=""))
        batch.add_column(sa.Column("contact_phone", sa.String(length=40), nullable=False, server_default=""))
    with op.batch_alter_table("meetings") as batch:
        batch.add_column(sa.Column("on_holidays", sa.String(length=10), nullable=False, server_default="skip"))
    op.create_table(
        "contact_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurrence_id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["occurrence_id"], ["occurrences.id"],
                                name=op.f("fk_contact_reminders_occurrence_id_occurrences"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["outbox_id"], ["invitation_outbox.id"],
                                name=op.f("fk_contact_reminders_outbox_id_invitation_outbox"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_reminders")),
        sa.UniqueConstraint("occurrence_id", "recipient", name=op.f("uq_contact_reminders_occurrence_id")),
    )


def downgrade() -> None:
    op.drop_table("contact_reminders")
    with op.batch_alter_table("meetings") as batch:
        batch.drop_column("on_holidays")
    with op.batch_alter_table("endpoints") as batch:
        batch.drop_column("contact_phone")
        batch.drop_column("contact_email")
        batch.drop_column("contact_name")
