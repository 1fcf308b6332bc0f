"""conference control: a meeting's join_muted, a run's live host focus and layout

``meetings.join_muted``: everyone but the host joins with the microphone muted on the bridge.
``conference_runs.host_endpoint_id``: the endpoint in focus (``important``) now — the meeting's host
at launch, moved live by an operator; ``conference_runs.layout``: the layout an operator chose;
``conference_runs.booked_at``: when the meeting was booked (an urgent meeting's lateness counts from it).

Revision ID: 0007
Revises: 0006
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from confbridge.db import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("meetings") as batch:
        batch.add_column(sa.Column("join_muted", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("conference_runs") as batch:
        batch.add_column(sa.Column("host_endpoint_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("layout", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("booked_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conference_runs") as batch:
        batch.drop_column("booked_at")
        batch.drop_column("layout")
        batch.drop_column("host_endpoint_id")
    with op.batch_alter_table("meetings") as batch:
        batch.drop_column("join_muted")
