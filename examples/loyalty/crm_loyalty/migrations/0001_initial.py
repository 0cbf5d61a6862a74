"""loyalty initial: the loyalty_entry ledger.

Revision ID: loyalty_0001
Revises: (base of its branch)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "loyalty_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("loyalty",)
depends_on: str | Sequence[str] | None = "core_0001"


def upgrade() -> None:
    op.create_table(
        "loyalty_entry",
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("opportunity_id", sa.Integer(), nullable=True),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expired", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["crm_customer.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("opportunity_id", name="uq_loyalty_entry_opportunity"),
    )
    op.create_index("ix_loyalty_entry_customer_id", "loyalty_entry", ["customer_id"])
    op.create_index("ix_loyalty_entry_expires_at", "loyalty_entry", ["expires_at"])


def downgrade() -> None:
    op.drop_table("loyalty_entry")
