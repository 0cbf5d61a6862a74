"""pipeline: pipelines, stages, opportunities, stage history, approvals; the default pipeline.

Revision ID: pipeline_0001
Revises:
Create Date: 2026-11-23 07:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "pipeline_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("pipeline",)
depends_on: str | Sequence[str] | None = "core_0003"

# 线索 lead 10 % → 意向 intent 30 % → 方案 proposal 50 % → 谈判 negotiation 70 % → 成交 won / 丢单 lost
DEFAULT_STAGES = (
    ("lead", "线索", "Lead", 10, "open"),
    ("intent", "意向", "Intent", 30, "open"),
    ("proposal", "方案", "Proposal", 50, "open"),
    ("negotiation", "谈判", "Negotiation", 70, "open"),
    ("won", "成交", "Won", 100, "won"),
    ("lost", "丢单", "Lost", 0, "lost"),
)


def _stamps() -> list[sa.Column[datetime]]:
    return [sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False)]


def upgrade() -> None:
    pipeline = op.create_table(
        "pipeline_pipeline",
        *_stamps(),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("approval_threshold", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    stage = op.create_table(
        "pipeline_stage",
        *_stamps(),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pipeline_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("probability", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["pipeline_id"], ["pipeline_pipeline.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("pipeline_id", "key", name="uq_pipeline_stage_key"),
    )
    op.create_index("ix_pipeline_stage_pipeline_id", "pipeline_stage", ["pipeline_id"])
    op.create_table(
        "pipeline_opportunity",
        *_stamps(),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("pipeline_id", sa.Integer(), nullable=False),
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("probability", sa.Integer(), nullable=False),
        sa.Column("probability_overridden", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("expected_close", sa.Date(), nullable=True),
        sa.Column("stage_entered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("lost_reason", sa.String(length=1000), nullable=True),
        sa.Column("approval_status", sa.String(length=10), nullable=False),
        sa.Column("milestones", sa.JSON(), nullable=False),
        sa.Column("description", sa.String(length=4000), nullable=True),
        sa.Column("custom", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["crm_customer.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["pipeline_id"], ["pipeline_pipeline.id"]),
        sa.ForeignKeyConstraint(["stage_id"], ["pipeline_stage.id"]),
        sa.ForeignKeyConstraint(["owner_id"], ["crm_user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["created_by_id"], ["crm_user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    for name, cols in (
        ("ix_pipeline_opportunity_owner_id_id", ["owner_id", "id"]),
        ("ix_pipeline_opportunity_customer_id", ["customer_id", "id"]),
        ("ix_pipeline_opportunity_stage_id", ["stage_id", "id"]),
        ("ix_pipeline_opportunity_status_closed", ["status", "closed_on"]),
        ("ix_pipeline_opportunity_expected_close", ["expected_close", "id"]),
        ("ix_pipeline_opportunity_approval", ["approval_status", "id"]),
    ):
        op.create_index(name, "pipeline_opportunity", cols)
    op.create_table(
        "pipeline_stage_history",
        *_stamps(),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column("from_stage_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["opportunity_id"], ["pipeline_opportunity.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["stage_id"], ["pipeline_stage.id"]),
        sa.ForeignKeyConstraint(["from_stage_id"], ["pipeline_stage.id"]),
        sa.ForeignKeyConstraint(["actor_id"], ["crm_user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_pipeline_stage_history_opp", "pipeline_stage_history",
                    ["opportunity_id", "entered_at"])
    op.create_table(
        "pipeline_approval",
        *_stamps(),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("request_comment", sa.String(length=1000), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("comment", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(["opportunity_id"], ["pipeline_opportunity.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["requested_by_id"], ["crm_user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["decided_by_id"], ["crm_user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_pipeline_approval_opp", "pipeline_approval", ["opportunity_id", "id"])

    now = datetime.now(UTC)
    op.bulk_insert(pipeline, [{
        "id": 1, "key": "default", "name": "销售流程", "name_en": "Sales pipeline",
        "is_default": True, "approval_threshold": None, "version": 1,
        "created_at": now, "updated_at": now,
    }])
    op.bulk_insert(stage, [{
        "pipeline_id": 1, "key": key, "name": zh, "name_en": en, "probability": p,
        "position": i, "kind": kind, "active": True, "version": 1,
        "created_at": now, "updated_at": now,
    } for i, (key, zh, en, p, kind) in enumerate(DEFAULT_STAGES)])
    if op.get_bind().dialect.name == "postgresql":  # the explicit id 1 left the sequence behind
        op.execute("SELECT setval(pg_get_serial_sequence('pipeline_pipeline', 'id'), "
                    "(SELECT max(id) FROM pipeline_pipeline))")


def downgrade() -> None:
    for t in ("pipeline_approval", "pipeline_stage_history", "pipeline_opportunity",
              "pipeline_stage", "pipeline_pipeline"):
        op.drop_table(t)
