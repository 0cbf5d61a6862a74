"""[[ name ]] initial: the [[ name ]]_item table.

Revision ID: [[ name ]]_0001
Revises: (base of its branch)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "[[ name ]]_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("[[ name ]]",)
depends_on: str | Sequence[str] | None = "core_0001"


def upgrade() -> None:
    op.create_table(
        "[[ name ]]_item",
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["crm_customer.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["owner_id"], ["crm_user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_[[ name ]]_item_customer_id", "[[ name ]]_item", ["customer_id"])
    op.create_index("ix_[[ name ]]_item_owner_id", "[[ name ]]_item", ["owner_id"])
    op.create_index("ix_[[ name ]]_item_status", "[[ name ]]_item", ["status"])


def downgrade() -> None:
    op.drop_table("[[ name ]]_item")
