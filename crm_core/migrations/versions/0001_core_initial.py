"""core initial: the kernel tables and the customer name search index.

The search index is the one dialect-specific part: an FTS5 trigram table kept in sync by
triggers on SQLite, a pg_trgm GIN index on PostgreSQL. A later revision that rebuilds
``crm_customer`` through batch mode on SQLite drops its triggers and must recreate them.

Revision ID: core_0001
Revises: (base of its branch)
Create Date: 2026-11-23 03:36:15.167463
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "core_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("core",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crm_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_login", sa.String(length=64), nullable=False),
        sa.Column("interface", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=120), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_crm_audit_actor", "crm_audit", ["actor_id", "id"])
    op.create_index(op.f("ix_crm_audit_at"), "crm_audit", ["at"])
    op.create_index("ix_crm_audit_entity", "crm_audit", ["entity", "entity_id", "id"])

    op.create_table(
        "crm_code_sequence",
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("prefix"),
    )
    op.create_table(
        "crm_custom_field",
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("label_en", sa.String(length=120), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("regex", sa.String(length=300), nullable=True),
        sa.Column("min_value", sa.String(length=40), nullable=True),
        sa.Column("max_value", sa.String(length=40), nullable=True),
        sa.Column("help_text", sa.String(length=300), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("entity", "key", name="uq_crm_custom_field"),
    )
    op.create_table(
        "crm_due_work",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("claimed_by", sa.String(length=120), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=2000), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "key", name="uq_crm_due_work"),
    )
    op.create_index("ix_crm_due_work_due", "crm_due_work", ["status", "due_at"])

    op.create_table(
        "crm_job_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=120), nullable=False),
        sa.Column("fire_key", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("error", sa.String(length=2000), nullable=True),
        sa.Column("owner", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("job_id", "fire_key", name="uq_crm_job_run"),
    )
    op.create_table(
        "crm_meta",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=2000), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "crm_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("available_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_crm_outbox_status", "crm_outbox", ["status", "available_at"])

    op.create_table(
        "crm_plugin_state",
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("error", sa.String(length=4000), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "crm_role",
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("label_en", sa.String(length=120), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "crm_user",
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_crm_user_login"), "crm_user", ["login"], unique=True)

    op.create_table(
        "crm_customer",
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("industry", sa.String(length=8), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("first_contact_date", sa.Date(), nullable=True),
        sa.Column("id_number_enc", sa.String(length=200), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("website", sa.String(length=200), nullable=True),
        sa.Column("remark", sa.String(length=2000), nullable=True),
        sa.Column("custom", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("last_followup_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["crm_user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["owner_id"], ["crm_user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_index(op.f("ix_crm_customer_industry"), "crm_customer", ["industry"])
    op.create_index(
        "ix_crm_customer_last_followup", "crm_customer", ["status", "last_followup_at"], unique=False
    )
    op.create_index(op.f("ix_crm_customer_name"), "crm_customer", ["name"])
    op.create_index("ix_crm_customer_owner_id_id", "crm_customer", ["owner_id", "id"])
    op.create_index(op.f("ix_crm_customer_region"), "crm_customer", ["region"])
    op.create_index(op.f("ix_crm_customer_source"), "crm_customer", ["source"])
    op.create_index("ix_crm_customer_status_id", "crm_customer", ["status", "id"])
    op.create_index("ix_crm_customer_updated", "crm_customer", ["updated_at", "id"])

    op.create_table(
        "crm_outbox_retry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("plugin", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(length=2000), nullable=False),
        sa.Column("dead", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["crm_outbox.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id", "plugin", name="uq_crm_outbox_retry"),
    )
    op.create_index("ix_crm_outbox_retry_due", "crm_outbox_retry", ["dead", "next_attempt_at"])

    op.create_table(
        "crm_role_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("role_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=120), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=True),
        sa.ForeignKeyConstraint(["role_id"], ["crm_role.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("role_id", "action", name="uq_crm_role_grant"),
    )
    op.create_index(op.f("ix_crm_role_grant_role_id"), "crm_role_grant", ["role_id"])

    op.create_table(
        "crm_team",
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("manager_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["manager_id"], ["crm_user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "crm_user_role",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["role_id"], ["crm_role.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["crm_user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "role_id"),
    )
    op.create_table(
        "crm_contact",
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=True),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("phone_enc", sa.String(length=200), nullable=True),
        sa.Column("phone_bidx", sa.String(length=64), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("id_number_enc", sa.String(length=200), nullable=True),
        sa.Column("wechat", sa.String(length=64), nullable=True),
        sa.Column("remark", sa.String(length=2000), nullable=True),
        sa.Column("custom", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["crm_customer.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_crm_contact_customer", "crm_contact", ["customer_id", "id"])
    op.create_index(op.f("ix_crm_contact_email"), "crm_contact", ["email"])
    op.create_index(op.f("ix_crm_contact_phone_bidx"), "crm_contact", ["phone_bidx"])

    op.create_table(
        "crm_team_member",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["crm_team.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["crm_user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("team_id", "user_id"),
    )
    op.create_index("ix_crm_team_member_user", "crm_team_member", ["user_id", "team_id"])

    op.create_table(
        "crm_followup",
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content", sa.String(length=5000), nullable=False),
        sa.Column("feedback", sa.String(length=2000), nullable=True),
        sa.Column("next_step", sa.String(length=1000), nullable=True),
        sa.Column("next_step_due", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["contact_id"], ["crm_contact.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["customer_id"], ["crm_customer.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["crm_user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_crm_followup_customer_at", "crm_followup", ["customer_id", "occurred_at"], unique=False
    )
    op.create_index("ix_crm_followup_due", "crm_followup", ["next_step_due"])
    _create_customer_search()


_FTS = "crm_customer_fts"
_FTS_DELETE = f"INSERT INTO {_FTS}({_FTS}, rowid, name) VALUES ('delete', old.id, old.name);"
_FTS_INSERT = f"INSERT INTO {_FTS}(rowid, name) VALUES (new.id, new.name);"
_SQLITE_SEARCH = (
    f"CREATE VIRTUAL TABLE {_FTS} USING fts5(name, content='crm_customer', "
    "content_rowid='id', tokenize='trigram')",
    f"CREATE TRIGGER {_FTS}_ai AFTER INSERT ON crm_customer BEGIN {_FTS_INSERT} END",
    f"CREATE TRIGGER {_FTS}_ad AFTER DELETE ON crm_customer BEGIN {_FTS_DELETE} END",
    f"CREATE TRIGGER {_FTS}_au AFTER UPDATE OF name ON crm_customer "
    f"BEGIN {_FTS_DELETE} {_FTS_INSERT} END",
    f"INSERT INTO {_FTS}({_FTS}) VALUES ('rebuild')",
)
_TRGM_INDEX = "ix_crm_customer_name_trgm"


def _create_customer_search() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in _SQLITE_SEARCH:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index(
            _TRGM_INDEX, "crm_customer", ["name"],
            postgresql_using="gin", postgresql_ops={"name": "gin_trgm_ops"},
        )


def _drop_customer_search() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS {_FTS}_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS {_FTS}")
    elif dialect == "postgresql":
        op.drop_index(_TRGM_INDEX, table_name="crm_customer")


def downgrade() -> None:
    _drop_customer_search()
    op.drop_table("crm_followup")
    op.drop_table("crm_team_member")
    op.drop_table("crm_contact")
    op.drop_table("crm_user_role")
    op.drop_table("crm_team")
    op.drop_table("crm_role_grant")
    op.drop_table("crm_outbox_retry")
    op.drop_table("crm_customer")
    op.drop_table("crm_user")
    op.drop_table("crm_role")
    op.drop_table("crm_plugin_state")
    op.drop_table("crm_outbox")
    op.drop_table("crm_meta")
    op.drop_table("crm_job_run")
    op.drop_table("crm_due_work")
    op.drop_table("crm_custom_field")
    op.drop_table("crm_code_sequence")
    op.drop_table("crm_audit")
