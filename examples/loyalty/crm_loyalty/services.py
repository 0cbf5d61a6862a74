"""Awarding, reading and expiring points — validate → authorise → write → audit + event."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import TYPE_CHECKING

from pydantic import BaseModel
from sqlalchemy import func, select, update
from sqlmodel import col

from crm_core.context import Ctx
from crm_core.db import utcnow
from crm_core.permissions.scope import fetch_in_scope, require, scope_clause
from crm_core.services.base import record
from crm_loyalty.models import LoyaltyEntry

if TYPE_CHECKING:
    from crm_core.kernel import Kernel

ENTITY = "loyalty.entry"
VIEW = "loyalty.view"
POINTS_PER = Decimal(100)  # one point per 100 of the amount won
VALID_FOR = timedelta(days=365)


class EntryRead(BaseModel):
    id: int
    points: int
    reason: str
    opportunity_id: int | None
    created_at: datetime
    expires_at: datetime
    expired: bool


class Balance(BaseModel):
    customer_id: int
    balance: int
    entries: list[EntryRead]


def points_for(amount: str | Decimal | None) -> int:
    """1 point per full 100 of ``amount``; a missing or malformed amount earns nothing."""
    try:
        value = Decimal(str(amount)) if amount is not None else Decimal(0)
    except InvalidOperation:
        return 0
    if not value.is_finite() or value <= 0:
        return 0
    return int((value / POINTS_PER).to_integral_value(rounding=ROUND_DOWN))


def award_for_won_opportunity(kernel: Kernel, payload: dict, now: datetime | None = None) -> int:
    """Award the points of a won opportunity (the ``opportunity.won`` payload); returns the
    points given, 0 when there is nothing to give or the opportunity was already rewarded."""
    points = points_for(payload.get("amount"))
    opportunity_id, customer_id = payload.get("id"), payload.get("customer_id")
    if points <= 0 or opportunity_id is None or customer_id is None:
        return 0
    now = now or utcnow()
    ctx = kernel.ctx()
    with ctx.uow() as s:
        done = s.scalar(select(col(LoyaltyEntry.id))
                        .where(col(LoyaltyEntry.opportunity_id) == opportunity_id))
        if done:
            return 0  # events may be delivered twice (retries): award once
        name = str(payload.get("name") or opportunity_id)
        row = LoyaltyEntry(customer_id=int(customer_id), opportunity_id=int(opportunity_id), points=points,
                           reason=f"won: {name}"[:200], expires_at=now + VALID_FOR,
                           created_at=now, updated_at=now)
        s.add(row)
        s.flush()
        record(ctx, s, action="loyalty.award", entity=ENTITY, entity_id=row.id,
               changes={"points": [None, points], "customer_id": [None, row.customer_id]},
               summary=f"{points} points for customer {row.customer_id}", event="loyalty.awarded",
               payload={"id": row.id, "customer_id": row.customer_id, "points": points,
                        "opportunity_id": row.opportunity_id})
    return points


def balance(ctx: Ctx, customer_id: int, limit: int = 10) -> Balance:
    """A customer's unexpired points and latest entries, for someone who may see the customer."""
    require(ctx.actor, VIEW)
    with ctx.reader() as s:
        fetch_in_scope(ctx.kernel, s, ctx.actor, "customer", customer_id, "customers.read")
        where = (col(LoyaltyEntry.customer_id) == customer_id,
                 scope_clause(ctx.kernel, ctx.actor, ENTITY, VIEW))
        total = s.scalar(select(func.coalesce(func.sum(col(LoyaltyEntry.points)), 0))
                         .where(*where, col(LoyaltyEntry.expired).is_(False)))
        rows = s.scalars(select(LoyaltyEntry).where(*where)
                         .order_by(col(LoyaltyEntry.id).desc()).limit(limit))
        entries = [EntryRead.model_validate(r, from_attributes=True) for r in rows]
    return Balance(customer_id=customer_id, balance=int(total or 0), entries=entries)


def expire_points(kernel: Kernel, now: datetime | None = None) -> int:
    """Mark awards past their expiry date as expired; returns how many (the nightly job).
    Running it twice expires nothing more."""
    now = now or utcnow()
    ctx = kernel.ctx()
    with ctx.uow() as s:
        result = s.execute(update(LoyaltyEntry)
                           .where(col(LoyaltyEntry.expired).is_(False), col(LoyaltyEntry.expires_at) <= now)
                           .values(expired=True, updated_at=now))
        n = int(getattr(result, "rowcount", 0) or 0)
        if n:
            record(ctx, s, action="loyalty.expire", entity=ENTITY, entity_id=None,
                   changes={"expired": [None, n]}, summary=f"{n} award(s) expired")
    return n
