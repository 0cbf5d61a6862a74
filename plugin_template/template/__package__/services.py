"""The use cases: validate → authorise → write in one transaction → audit entry + domain event.

Pages, the API, jobs and event handlers all call these functions, never the table directly.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from crm_core.context import Ctx
from crm_core.db import utcnow
from crm_core.permissions.scope import fetch_in_scope, require, scope_clause
from crm_core.services.base import parse, record
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, update
from sqlmodel import col

from [[ package ]].models import Item

if TYPE_CHECKING:
    from crm_core.kernel import Kernel

ENTITY = "[[ name ]].item"
ACTION = "[[ name ]].use"
WELCOME_TITLE = "Welcome call"
STALE_AFTER = timedelta(days=30)


class ItemIn(BaseModel):
    """What a user sends to create an item."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    customer_id: int
    title: str = Field(min_length=1, max_length=200)


class ItemRead(BaseModel):
    id: int
    customer_id: int
    owner_id: int | None
    title: str
    status: str
    created_at: datetime
    closed_at: datetime | None = None


class ItemQuery(BaseModel):
    """The list's query string: every filter is declared (and indexed)."""

    model_config = ConfigDict(extra="forbid")

    customer_id: int | None = None
    status: str | None = Field(default=None, pattern="^(open|closed)$")
    limit: int = Field(default=50, ge=1, le=200)


class ItemList(BaseModel):
    items: list[ItemRead]


def to_read(row: Item) -> ItemRead:
    return ItemRead.model_validate(row, from_attributes=True)


def create_item(ctx: Ctx, data: ItemIn | dict[str, Any]) -> ItemRead:
    """A new open item on a customer the user may read."""
    d = parse(ItemIn, data)
    require(ctx.actor, ACTION)
    with ctx.uow() as s:
        fetch_in_scope(ctx.kernel, s, ctx.actor, "customer", d.customer_id, "customers.read")
        row = Item(customer_id=d.customer_id, owner_id=ctx.actor.id, title=d.title)
        s.add(row)
        s.flush()
        payload = {"id": row.id, "customer_id": row.customer_id, "owner_id": row.owner_id,
                   "title": row.title}
        record(ctx, s, action="[[ name ]].item.create", entity=ENTITY, entity_id=row.id,
               changes={"title": [None, row.title], "customer_id": [None, row.customer_id]},
               summary=row.title, event="[[ name ]].item.created", payload=payload)
        return to_read(row)


def list_items(ctx: Ctx, query: ItemQuery | dict[str, Any] | None = None) -> list[ItemRead]:
    """Items the user may see (record scope applied in SQL), newest first."""
    q = parse(ItemQuery, query or {})
    require(ctx.actor, ACTION)
    stmt = select(Item).where(scope_clause(ctx.kernel, ctx.actor, ENTITY, ACTION))
    if q.customer_id is not None:
        stmt = stmt.where(col(Item.customer_id) == q.customer_id)
    if q.status is not None:
        stmt = stmt.where(col(Item.status) == q.status)
    with ctx.reader() as s:
        return [to_read(r) for r in s.scalars(stmt.order_by(col(Item.id).desc()).limit(q.limit))]


def welcome_new_customer(kernel: Kernel, customer_id: int, owner_id: int | None) -> bool:
    """Add a "Welcome call" item to a new customer (once, even if the event comes twice)."""
    ctx = kernel.ctx()
    with ctx.uow() as s:
        exists = s.scalar(select(col(Item.id)).where(col(Item.customer_id) == customer_id,
                                                     col(Item.title) == WELCOME_TITLE))
        if exists:
            return False
        row = Item(customer_id=customer_id, owner_id=owner_id, title=WELCOME_TITLE)
        s.add(row)
        s.flush()
        record(ctx, s, action="[[ name ]].item.create", entity=ENTITY, entity_id=row.id,
               changes={"title": [None, row.title]}, summary=row.title)
    return True


def close_stale_items(kernel: Kernel, now: datetime | None = None) -> int:
    """Close items open for longer than 30 days; returns how many (the nightly job)."""
    now = now or utcnow()
    ctx = kernel.ctx()
    with ctx.uow() as s:
        ids = list(s.scalars(select(col(Item.id)).where(
            col(Item.status) == "open", col(Item.created_at) < now - STALE_AFTER)))
        if not ids:
            return 0
        s.execute(update(Item).where(col(Item.id).in_(ids), col(Item.status) == "open")
                  .values(status="closed", closed_at=now, updated_at=now, version=col(Item.version) + 1))
        record(ctx, s, action="[[ name ]].item.close_stale", entity=ENTITY, entity_id=None,
               changes={"closed": [None, len(ids)]}, summary=f"{len(ids)} stale item(s) closed")
    return len(ids)
