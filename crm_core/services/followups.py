"""Follow-up records (跟进记录): who followed up which customer, how, and what comes next."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, tuple_
from sqlmodel import col

from crm_core.context import Ctx
from crm_core.db import utcnow
from crm_core.errors import ValidationError
from crm_core.models import Contact, Customer, FollowUp
from crm_core.permissions.scope import fetch_in_scope, require_parent_in_scope, scope_clause
from crm_core.schemas import FollowUpCreate, FollowUpRead, FollowUpUpdate
from crm_core.services.base import (
    Page,
    bump,
    changes_between,
    check_version,
    clamp_limit,
    decode_cursor,
    delete_recorded,
    encode_cursor,
    parse,
    record,
    run_validators,
)

ENTITY = "followup"
_FIELDS = ("customer_id", "contact_id", "user_id", "method", "occurred_at", "content", "feedback",
           "next_step", "next_step_due")
FUTURE_TOLERANCE = timedelta(minutes=10)


def to_read(row: FollowUp) -> FollowUpRead:
    return FollowUpRead(**{k: getattr(row, k) for k in FollowUpRead.model_fields})


def _utc(dt: datetime | None, tz: str = "UTC") -> datetime:
    """Aware UTC; a naive time is read in the actor's time zone (what they typed)."""
    if dt is None:
        return utcnow()
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=ZoneInfo(tz))
    return dt.astimezone(UTC)


def _check_time(at: datetime) -> None:
    if at > utcnow() + FUTURE_TOLERANCE:
        raise ValidationError("invalid follow-up", {"occurred_at": ["cannot be in the future"]})


def _touch_customer(s: Any, customer_id: int) -> None:
    latest = s.scalar(select(func.max(FollowUp.occurred_at)).where(
        col(FollowUp.customer_id) == customer_id))
    s.get(Customer, customer_id).last_followup_at = latest


def create_followup(ctx: Ctx, data: FollowUpCreate | dict[str, Any]) -> FollowUpRead:
    d = parse(FollowUpCreate, data)
    at = _utc(d.occurred_at, ctx.actor.timezone)
    _check_time(at)
    with ctx.uow() as s:
        fetch_in_scope(ctx.kernel, s, ctx.actor, "customer", d.customer_id, "customers.read")
        require_parent_in_scope(ctx.kernel, s, ctx.actor, ENTITY, d.customer_id,
                                "followups.create")
        errors: dict[str, list[str]] = {}
        if d.contact_id is not None and s.scalar(select(col(Contact.customer_id)).where(
                col(Contact.id) == d.contact_id)) != d.customer_id:
            errors["contact_id"] = ["not a contact of this customer"]
        values = {**d.model_dump(exclude={"occurred_at"}), "occurred_at": at,
                  "user_id": ctx.actor.id}
        run_validators(ctx, ENTITY, values, None, errors)
        row = FollowUp(**values)
        s.add(row)
        s.flush()
        _touch_customer(s, d.customer_id)
        public = {k: getattr(row, k) for k in _FIELDS}
        record(ctx, s, action="followup.create", entity=ENTITY, entity_id=row.id,
               changes={k: [None, v] for k, v in public.items() if v is not None},
               summary=row.content[:80], event="followup.created",
               payload={"id": row.id, **public})
        return to_read(row)


def update_followup(
    ctx: Ctx, followup_id: int, data: FollowUpUpdate | dict[str, Any], version: int | None = None
) -> FollowUpRead:
    upd = parse(FollowUpUpdate, data).model_dump(exclude_unset=True)
    if "occurred_at" in upd:
        if upd["occurred_at"] is None:  # not "now": a cleared time is a mistake, say so
            raise ValidationError("invalid follow-up", {"occurred_at": ["cannot be empty"]})
        upd["occurred_at"] = _utc(upd["occurred_at"], ctx.actor.timezone)
        _check_time(upd["occurred_at"])
    with ctx.uow() as s:
        row = fetch_in_scope(ctx.kernel, s, ctx.actor, ENTITY, followup_id, "followups.update",
                             for_update=True)
        check_version(row, version, "follow-up")
        before = {k: getattr(row, k) for k in _FIELDS}
        errors: dict[str, list[str]] = {
            k: ["cannot be empty"] for k in ("content", "method") if k in upd and not upd[k]}
        after = {**before, **upd}
        run_validators(ctx, ENTITY, after, row, errors)
        for k, v in upd.items():
            setattr(row, k, v)
        changes = changes_between(before, after)
        if changes:
            bump(row)
            s.flush()
            _touch_customer(s, row.customer_id)
            record(ctx, s, action="followup.update", entity=ENTITY, entity_id=row.id,
                   changes=changes, summary=row.content[:80], event="followup.updated",
                   payload={"id": row.id, "version": row.version, "changes": changes})
        return to_read(row)


def delete_followup(ctx: Ctx, followup_id: int, version: int | None = None) -> None:
    with ctx.uow() as s:
        row = fetch_in_scope(ctx.kernel, s, ctx.actor, ENTITY, followup_id, "followups.delete",
                             for_update=True)
        check_version(row, version, "follow-up")
        snapshot = {k: getattr(row, k) for k in _FIELDS}
        delete_recorded(ctx, s, row, entity=ENTITY, action="followup.delete", event="followup.deleted",
                        snapshot=snapshot, summary=str(snapshot["content"])[:80])
        _touch_customer(s, snapshot["customer_id"])


def get_followup(ctx: Ctx, followup_id: int) -> FollowUpRead:
    with ctx.reader() as s:
        return to_read(fetch_in_scope(ctx.kernel, s, ctx.actor, ENTITY, followup_id,
                                      "followups.read"))


def timeline(
    ctx: Ctx, customer_id: int | None = None, cursor: str | None = None, limit: int | None = None
) -> Page[FollowUpRead]:
    """Follow-ups newest first (one customer's, or all the actor may read), keyset-paged."""
    limit = clamp_limit(limit)
    with ctx.reader() as s:
        stmt = select(FollowUp).where(scope_clause(ctx.kernel, ctx.actor, ENTITY, "followups.read"))
        if customer_id is not None:
            fetch_in_scope(ctx.kernel, s, ctx.actor, "customer", customer_id, "customers.read")
            stmt = stmt.where(col(FollowUp.customer_id) == customer_id)
        if cursor:
            at, last_id = decode_cursor(cursor, 2)
            try:
                if not isinstance(last_id, int) or isinstance(last_id, bool):
                    raise TypeError
                at = datetime.fromisoformat(at)
            except (TypeError, ValueError):  # a tampered cursor: say so, don't fail in SQL
                raise ValidationError("invalid cursor",
                                      {"cursor": ["not a cursor from a previous page"]}) from None
            stmt = stmt.where(tuple_(col(FollowUp.occurred_at), col(FollowUp.id)) < (at, last_id))
        rows = list(s.scalars(stmt.order_by(col(FollowUp.occurred_at).desc(), col(FollowUp.id).desc())
                              .limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor([rows[-1].occurred_at, rows[-1].id]) if more and rows else None
    return Page([to_read(r) for r in rows], nxt, limit)
