"""dial-in numbers and external participants: meetings.dial_in_number/dial_in_uri/external_participants;
call legs for participants outside the directory (endpoint_id nullable, kind, position)

Revision ID: 0009
Revises: 0008
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("meetings") as batch:
        batch.add_column(sa.Column("dial_in_number", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("dial_in_uri", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("external_participants", sa.JSON(), nullable=False,
                                   server_default=sa.text("'[]'")))
    with op.batch_alter_table("call_legs") as batch:
        batch.alter_column("endpoint_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("kind", sa.String(length=10), nullable=False, server_default="endpoint"))
        batch.add_column(sa.Column("position", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    op.execute("DELETE FROM call_legs WHERE endpoint_id IS NULL")
    with op.batch_alter_table("call_legs") as batch:
        batch.drop_column("position")
        batch.drop_column("kind")
        batch.alter_column("endpoint_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("meetings") as batch:
        batch.drop_column("external_participants")
        batch.drop_column("dial_in_uri")
        batch.drop_column("dial_in_number")
