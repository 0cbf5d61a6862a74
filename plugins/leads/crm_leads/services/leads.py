"""Lead records: create (and auto-assign), read, update, delete, list, first contact."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from crm_core.context import Ctx
from crm_core.db import contains_ci, utcnow
from crm_core.errors import PermissionDenied, ValidationError
from crm_core.normalize import mask_phone, normalize_name
from crm_core.permissions.scope import fetch_in_scope, scope_clause
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
from crm_core.services.custom_fields import validate_custom
from crm_leads.models import Lead
from crm_leads.schemas import LeadCreate, LeadQuery, LeadRead, LeadUpdate

ENTITY = "leads.lead"
PUBLIC_FIELDS = ("name", "company", "email", "source", "region", "industry", "estimated_value",
                 "status", "owner_id", "team_id", "remark", "custom")


def to_read(ctx: Ctx, row: Lead) -> LeadRead:
    data = {k: getattr(row, k) for k in LeadRead.model_fields}
    if not ctx.actor.can("contacts.see_phone"):
        data["phone"] = mask_phone(row.phone)
    return LeadRead(**data)


def public(row: Lead) -> dict[str, Any]:
    return {k: getattr(row, k) for k in PUBLIC_FIELDS}


def get_lead(ctx: Ctx, lead_id: int) -> LeadRead:
    with ctx.reader() as s:
        return to_read(ctx, fetch_in_scope(ctx.kernel, s, ctx.actor, ENTITY, lead_id, "leads.read"))


def insert_lead(ctx: Ctx, s: Session, d: LeadCreate, *, assign: bool = True,
                source_default: str | None = None) -> Lead:
    """Validate and insert one lead in the caller's transaction (no permission check: callers
    authorise), audit it and assign it through the rules."""
    custom, errors = validate_custom(s, ENTITY, d.custom, kernel=ctx.kernel)
    values = d.model_dump(exclude={"custom"})
    if not values.get("source") and source_default:
        values["source"] = source_default
    values["custom"] = custom
    if not values.get("phone") and not values.get("email"):
        errors = dict(errors)
        errors.setdefault("phone", []).append("give a phone or an email")
    run_validators(ctx, ENTITY, values, None, errors)
    row = Lead(**values, created_by_id=ctx.actor.id)
    s.add(row)
    s.flush()
    payload = public(row)
    record(ctx, s, action="lead.create", entity=ENTITY, entity_id=row.id,
           changes={k: [None, v] for k, v in payload.items() if v not in (None, {}, "")},
           summary=row.name, event="lead.created", payload={"id": row.id, **payload})
    if assign:
        from crm_leads.services.assign import assign_rows

        assign_rows(ctx, s, [row])
    return row


def create_lead(ctx: Ctx, data: LeadCreate | dict[str, Any]) -> LeadRead:
    """A lead typed in (page, API): assigned by the rules; if no rule gives it an owner, the
    person who entered it owns it."""
    d = parse(LeadCreate, data)
    if ctx.actor.scope("leads.create") is None:
        raise PermissionDenied(f"{ctx.actor.login} may not leads.create")
    with ctx.uow() as s:
        row = insert_lead(ctx, s, d)
        if row.owner_id is None and ctx.actor.id is not None:
            from crm_leads.services.assign import set_owner

            set_owner(ctx, s, row, ctx.actor.id, None, None,
                      "no rule matched: owned by the person who entered it")
        return to_read(ctx, row)


def update_lead(ctx: Ctx, lead_id: int, data: LeadUpdate | dict[str, Any],
                version: int | None = None) -> LeadRead:
    upd = parse(LeadUpdate, data).model_dump(exclude_unset=True)
    with ctx.uow() as s:
        row = fetch_in_scope(ctx.kernel, s, ctx.actor, ENTITY, lead_id, "leads.update",
                             for_update=True)
        check_version(row, version, "lead")
        errors: dict[str, list[str]] = {}
        if row.status == "converted":
            raise ValidationError("lead is converted", {"status": ["a converted lead can't be changed"]})
        if "phone" in upd and not ctx.actor.can("contacts.see_phone"):
            raise PermissionDenied(f"{ctx.actor.login} may not change phone numbers they can't see")
        before = {**public(row), "phone": row.phone, "disqualified_reason": row.disqualified_reason}
        if "custom" in upd:
            upd["custom"], errors = validate_custom(s, ENTITY, upd["custom"] or {}, row.custom,
                                                    ctx.kernel)
        for field in ("name", "status"):
            if field in upd and upd[field] is None:
                errors.setdefault(field, []).append("cannot be empty")
        after = {**before, **upd}
        if after.get("status") == "disqualified" and not after.get("disqualified_reason"):
            errors.setdefault("disqualified_reason", []).append("disqualified_reason is required")
        if not after.get("phone") and not after.get("email"):
            errors.setdefault("phone", []).append("give a phone or an email")
        run_validators(ctx, ENTITY, after, row, errors)
        for k, v in upd.items():
            setattr(row, k, v)
        changes = changes_between(before, after)
        if "phone" in changes:
            changes["phone"] = ["(hidden)", "(changed)"]
        if not changes:
            return to_read(ctx, row)
        contacted = _first_contact(row, before["status"])
        bump(row)
        record(ctx, s, action="lead.update", entity=ENTITY, entity_id=row.id, changes=changes,
               summary=row.name, event="lead.updated",
               payload={"id": row.id, "version": row.version, "changes": changes})
        if contacted:
            _emit_contacted(ctx, s, row)
        return to_read(ctx, row)


def _first_contact(row: Lead, old_status: str) -> bool:
    if row.first_contacted_at is None and row.status != "new" and old_status == "new":
        row.first_contacted_at = utcnow()
        return True
    return False


def _emit_contacted(ctx: Ctx, s: Session, row: Lead) -> None:
    record(ctx, s, action="lead.contacted", entity=ENTITY, entity_id=row.id,
           changes={"first_contacted_at": [None, row.first_contacted_at]}, summary=row.name,
           event="lead.contacted", payload={"id": row.id, "owner_id": row.owner_id,
                                            "first_contacted_at": row.first_contacted_at})


def mark_contacted(ctx: Ctx, lead_id: int, version: int | None = None) -> LeadRead:
    """The owner reached the lead: status new → contacted, first contact time recorded once."""
    with ctx.uow() as s:
        row = fetch_in_scope(ctx.kernel, s, ctx.actor, ENTITY, lead_id, "leads.update",
                             for_update=True)
        check_version(row, version, "lead")
        if row.status in ("converted", "disqualified"):
            raise ValidationError("lead is closed", {"status": [f"the lead is {row.status}"]})
        changed = False
        if row.status == "new":
            row.status = "contacted"
            changed = True
        if row.first_contacted_at is None:
            row.first_contacted_at = utcnow()
            changed = True
        if changed:
            bump(row)
            _emit_contacted(ctx, s, row)
        return to_read(ctx, row)


def delete_lead(ctx: Ctx, lead_id: int, version: int | None = None) -> None:
    with ctx.uow() as s:
        row = fetch_in_scope(ctx.kernel, s, ctx.actor, ENTITY, lead_id, "leads.delete",
                             for_update=True)
        check_version(row, version, "lead")
        snapshot = public(row)
        delete_recorded(ctx, s, row, entity=ENTITY, action="lead.delete", event="lead.deleted",
                        snapshot=snapshot, summary=snapshot["name"])


def list_leads(ctx: Ctx, query: LeadQuery | dict[str, Any] | None = None) -> Page[LeadRead]:
    """One keyset page (newest first) of the leads the actor may read."""
    q = parse(LeadQuery, query or {})
    limit = clamp_limit(q.limit)
    stmt = select(Lead).where(scope_clause(ctx.kernel, ctx.actor, ENTITY, "leads.read"))
    for name in ("status", "source", "region", "industry"):
        value = getattr(q, name)
        if value:
            stmt = stmt.where(getattr(Lead, name) == value)
    if q.owner:
        if q.owner == "me":
            stmt = stmt.where(col(Lead.owner_id) == ctx.actor.id)
        elif q.owner == "none":
            stmt = stmt.where(col(Lead.owner_id).is_(None))
        elif q.owner.isdigit():
            stmt = stmt.where(col(Lead.owner_id) == int(q.owner))
        else:
            raise ValidationError("invalid filter", {"owner": ["'me' or a user id"]})
    if q.q:
        term = normalize_name(q.q)
        stmt = stmt.where(or_(contains_ci(Lead.name, term), contains_ci(Lead.company, term),
                              col(Lead.email) == term.lower()))
    if q.cursor:
        (last_id,) = decode_cursor(q.cursor, 1)
        if not isinstance(last_id, int) or isinstance(last_id, bool):
            raise ValidationError("invalid cursor", {"cursor": ["not a cursor from a previous page"]})
        stmt = stmt.where(col(Lead.id) < last_id)
    with ctx.reader() as s:
        rows = list(s.scalars(stmt.order_by(col(Lead.id).desc()).limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
        items = [to_read(ctx, r) for r in rows]
    cursor = encode_cursor([rows[-1].id]) if more and rows else None
    return Page(items, cursor, limit)
