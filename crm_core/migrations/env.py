"""Alembic environment for Mosaic CRM; driven by ``crm_core.migrate`` (online only).

``crm_core.migrate`` passes the connection (inside its transaction) and collects what ran in
``config.attributes``; there is no alembic.ini.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

import crm_core.models  # noqa: F401  (registers the kernel tables)
from crm_core.migrate import include_name

config = context.config
target_metadata = SQLModel.metadata


def _include_object(obj: Any, name: str | None, type_: str, reflected: bool, other: Any) -> bool:
    # ``crm_core.migrate.new_revision`` limits autogenerate to one branch's tables.
    prefix = config.attributes.get("table_prefix")
    return not (prefix and type_ == "table" and not (name or "").startswith(prefix))


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    # Revisions use plain SQLAlchemy types, not SQLModel's wrappers (AutoString, UTCDateTime).
    if type_ == "type" and isinstance(obj, TypeDecorator) and _from_sqlmodel(obj):
        return f"sa.{obj.impl_instance!r}"
    return False


def _from_sqlmodel(obj: Any) -> bool:
    return type(obj).__module__.split(".")[0] == "sqlmodel"


def _record(ctx: Any, step: Any, heads: Any, run_args: Any) -> None:
    doc = (step.up_revision.doc or "").strip()
    config.attributes.setdefault("applied", []).append(f"applied {step.up_revision_id}: {doc}")


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through crm_core.migrate (`crm migrate`)")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_name=include_name,
        include_object=_include_object,
        render_item=_render_item,
        on_version_apply=_record,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not supported")
run_migrations_online()
