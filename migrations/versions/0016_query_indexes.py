"""query indexes: the endpoint/window index of endpoint_slots covers the occurrence and meeting ids on
PostgreSQL (INCLUDE), so availability and conflict probes are index-only scans (no heap page per slot)

SQLite has no INCLUDE: its index stays as it was.

Revision ID: 0016
Revises: 0014
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["endpoint_id", "window_start", "window_end"]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_endpoint_slots_endpoint_window", table_name="endpoint_slots")
    op.create_index("ix_endpoint_slots_endpoint_window", "endpoint_slots", COLUMNS,
                    postgresql_include=["occurrence_id", "meeting_id"])


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_endpoint_slots_endpoint_window", table_name="endpoint_slots")
    op.create_index("ix_endpoint_slots_endpoint_window", "endpoint_slots", COLUMNS)
