"""endpoint groups and meeting templates: endpoint_groups, endpoint_group_members, meeting_templates,
template_endpoints, template_groups

Revision ID: 0011
Revises: 0010
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from confbridge.db import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "endpoint_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_endpoint_groups")),
        sa.UniqueConstraint("name", name=op.f("uq_endpoint_groups_name")),
    )
    op.create_table(
        "endpoint_group_members",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["endpoint_id"], ["endpoints.id"], ondelete="CASCADE",
                                name=op.f("fk_endpoint_group_members_endpoint_id_endpoints")),
        sa.ForeignKeyConstraint(["group_id"], ["endpoint_groups.id"], ondelete="CASCADE",
                                name=op.f("fk_endpoint_group_members_group_id_endpoint_groups")),
        sa.PrimaryKeyConstraint("group_id", "endpoint_id", name=op.f("pk_endpoint_group_members")),
    )
    op.create_index(op.f("ix_endpoint_group_members_endpoint_id"), "endpoint_group_members", ["endpoint_id"])
    op.create_table(
        "meeting_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=True),
        sa.Column("setup_minutes", sa.Integer(), nullable=True),
        sa.Column("host_endpoint_id", sa.Integer(), nullable=True),
        sa.Column("attendees", sa.JSON(), nullable=False),
        sa.Column("rrule", sa.String(length=500), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["host_endpoint_id"], ["endpoints.id"], ondelete="SET NULL",
                                name=op.f("fk_meeting_templates_host_endpoint_id_endpoints")),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_meeting_templates_owner_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_templates")),
    )
    op.create_index(op.f("ix_meeting_templates_owner_id"), "meeting_templates", ["owner_id"])
    op.create_table(
        "template_endpoints",
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["endpoint_id"], ["endpoints.id"], ondelete="CASCADE",
                                name=op.f("fk_template_endpoints_endpoint_id_endpoints")),
        sa.ForeignKeyConstraint(["template_id"], ["meeting_templates.id"], ondelete="CASCADE",
                                name=op.f("fk_template_endpoints_template_id_meeting_templates")),
        sa.PrimaryKeyConstraint("template_id", "endpoint_id", name=op.f("pk_template_endpoints")),
    )
    op.create_table(
        "template_groups",
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["endpoint_groups.id"], ondelete="CASCADE",
                                name=op.f("fk_template_groups_group_id_endpoint_groups")),
        sa.ForeignKeyConstraint(["template_id"], ["meeting_templates.id"], ondelete="CASCADE",
                                name=op.f("fk_template_groups_template_id_meeting_templates")),
        sa.PrimaryKeyConstraint("template_id", "group_id", name=op.f("pk_template_groups")),
    )


def downgrade() -> None:
    op.drop_table("template_groups")
    op.drop_table("template_endpoints")
    op.drop_index(op.f("ix_meeting_templates_owner_id"), table_name="meeting_templates")
    op.drop_table("meeting_templates")
    op.drop_index(op.f("ix_endpoint_group_members_endpoint_id"), table_name="endpoint_group_members")
    op.drop_table("endpoint_group_members")
    op.drop_table("endpoint_groups")
