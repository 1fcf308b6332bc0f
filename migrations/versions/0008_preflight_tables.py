"""pre-flight test calls: preflight_runs and preflight_results

Revision ID: 0008
Revises: 0007
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from confbridge.db import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "preflight_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurrence_id", sa.Integer(), nullable=True),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("bridge_name", sa.String(length=64), nullable=False),
        sa.Column("phase", sa.String(length=20), nullable=False),
        sa.Column("trigger", sa.String(length=10), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("conference_ready", sa.Boolean(), nullable=False),
        sa.Column("last_reason", sa.Text(), nullable=True),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("deadline", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("torn_down_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["occurrence_id"], ["occurrences.id"],
                                name=op.f("fk_preflight_runs_occurrence_id_occurrences"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"],
                                name=op.f("fk_preflight_runs_meeting_id_meetings"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["requested_by"], ["users.id"],
                                name=op.f("fk_preflight_runs_requested_by_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_preflight_runs")),
    )
    op.create_index("ix_preflight_runs_occurrence_id", "preflight_runs", ["occurrence_id"])
    op.create_index("ix_preflight_runs_phase", "preflight_runs", ["phase"])
    op.create_table(
        "preflight_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("preflight_id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("participant_name", sa.String(length=31), nullable=False),
        sa.Column("protocol", sa.String(length=8), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["preflight_id"], ["preflight_runs.id"],
                                name=op.f("fk_preflight_results_preflight_id_preflight_runs"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["endpoint_id"], ["endpoints.id"],
                                name=op.f("fk_preflight_results_endpoint_id_endpoints"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_preflight_results")),
        sa.UniqueConstraint("preflight_id", "endpoint_id",
                            name=op.f("uq_preflight_results_preflight_id")),
    )


def downgrade() -> None:
    op.drop_table("preflight_results")
    op.drop_index("ix_preflight_runs_phase", table_name="preflight_runs")
    op.drop_index("ix_preflight_runs_occurrence_id", table_name="preflight_runs")
    op.drop_table("preflight_runs")
