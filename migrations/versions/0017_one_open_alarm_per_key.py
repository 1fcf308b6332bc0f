"""one open alarm per key: a partial unique index on alarms(key) where cleared_at is null

Two raisers of the same alarm (the launch engine and the monitor, or two schedulers during a bridge
hand-over) could each find no open alarm and insert one: the technician saw the same dropped call twice.
Existing duplicates are closed first (all but the newest open one per key).

Revision ID: 0017
Revises: 0012
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(sa.text(
        "UPDATE alarms SET cleared_at = last_seen_at WHERE cleared_at IS NULL AND id NOT IN "
        "(SELECT MAX(id) FROM alarms WHERE cleared_at IS NULL GROUP BY key)"))
    op.create_index("ux_alarms_open_key", "alarms", ["key"], unique=True,
                    postgresql_where=sa.text("cleared_at IS NULL"), sqlite_where=sa.text("cleared_at IS NULL"))


def downgrade() -> None:
    op.drop_index("ux_alarms_open_key", table_name="alarms")
