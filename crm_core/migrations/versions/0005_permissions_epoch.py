"""permissions epoch: triggers that change ``crm_meta['permissions_epoch']`` whenever roles,
grants, role assignments, teams or team memberships change.

The value is random (never a counter that a reset could bring back), written in the same
transaction as the change, whoever makes it (services, CLI, plugins, raw SQL). The API token
lookup reads it in its own query and caches each user's roles, grants and teams per epoch
(:mod:`crm_core.permissions.cache`), so a change is seen by the very next request of every
process.

Revision ID: core_0005
Revises: core_0004
Create Date: 2026-11-23 07:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "core_0005"
down_revision: str | Sequence[str] | None = "core_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("crm_role", "crm_role_grant", "crm_user_role", "crm_team", "crm_team_member")
KEY = "permissions_epoch"
_PG_FUNCTION = "crm_bump_permissions_epoch"


def upgrade() -> None:
    # the row exists from now on: the cache is used only when it does (an older schema without
    # the triggers has none, and then every request loads its actor)
    op.execute(f"DELETE FROM crm_meta WHERE key = '{KEY}'")
    op.execute(f"INSERT INTO crm_meta (key, value) VALUES ('{KEY}', 'core_0005')")
    if op.get_context().dialect.name == "postgresql":
        op.execute(f"""
            CREATE OR REPLACE FUNCTION {_PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO crm_meta (key, value)
                VALUES ('{KEY}', md5(random()::text || clock_timestamp()::text))
                ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value;
                RETURN NULL;
            END $$""")
        for table in TABLES:
            op.execute(f"CREATE TRIGGER {table}_perm_epoch AFTER INSERT OR UPDATE OR DELETE "
                       f"OR TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {_PG_FUNCTION}()")
        return
    for table in TABLES:
        for event in ("INSERT", "UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER {table}_perm_epoch_{event.lower()} AFTER {event} ON {table}
                BEGIN
                    INSERT INTO crm_meta (key, value) VALUES ('{KEY}', lower(hex(randomblob(12))))
                    ON CONFLICT (key) DO UPDATE SET value = excluded.value;
                END""")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_perm_epoch ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {_PG_FUNCTION}()")
    else:
        for table in TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_perm_epoch_{event}")
    op.execute(f"DELETE FROM crm_meta WHERE key = '{KEY}'")
