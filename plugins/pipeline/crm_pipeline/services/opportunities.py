"""Opportunity use cases: create, read, update, delete, list."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import col

from crm_core.context import Ctx
from crm_core.db import utcnow
from crm_core.errors import PermissionDenied
from crm_core.models.base import row_id
from crm_core.permissions.scope import fetch_in_scope
from crm_core.services.base import (
    bump,
    changes_between,
    check_version,
    delete_recorded,
    parse,
    record,
    run_validators,
)
from crm_core.services.custom_fields import validate_custom
from crm_pipeline.models import Approval, Opportunity, StageHistory
from crm_pipeline.schemas import HistoryRead, OpportunityCreate, OpportunityRead, OpportunityUpdate
from crm_pipeline.services.common import (
    ENTITY,
    check_owner,
    event_payload,
    pipeline_by_key,
    public,
    stage_by_key,
    stages_of,
    to_read,
)


def create_opportunity(ctx: Ctx, data: OpportunityCreate | dict[str, Any]) -> OpportunityRead:
    """Create an opportunity (contracts.md): ``customer_id`` and ``name`` required; ``stage``
    (a stage key) defaults to the first stage of the default pipeline, ``probability`` to the
    stage's, ``owner_id`` to the acting user. Joins the caller's transaction."""
    d = parse(OpportunityCreate, data)
    if ctx.actor.scope("pipeline.create") is None:
        raise PermissionDenied(f"{ctx.actor.login} may not pipeline.create")
    with ctx.uow() as s:
        # the customer must be one the actor may read (unreadable = not found, no leak)
        fetch_in_scope(ctx.kernel, s, ctx.actor, "customer", d.customer_id, "customers.read")
        owner_id = d.owner_id if d.owner_id is not None else ctx.actor.id
        if owner_id is not None:
            check_owner(ctx, s, owner_id, "pipeline.create")
        pipeline = pipeline_by_key(s, d.pipeline)
        stage = stage_by_key(s, pipeline.id or 0, d.stage)
        if stage.kind != "open":
            from crm_core.errors import ValidationError

            raise ValidationError("invalid stage", {"stage": [
                "a new opportunity starts in an open stage; win or lose it afterwards"]})
        custom, errors = validate_custom(s, ENTITY, d.custom, kernel=ctx.kernel)
        now = utcnow()
        values: dict[str, Any] = {
            "customer_id": d.customer_id, "pipeline_id": pipeline.id, "stage_id": stage.id,
            "name": d.name, "amount": d.amount, "currency": d.currency,
            "probability": stage.probability if d.probability is None else d.probability,
            "probability_overridden": d.probability is not None
            and d.probability != stage.probability,
            "status": "open", "owner_id": owner_id, "expected_close": d.expected_close,
            "lost_reason": None, "approval_status": "none", "milestones": {},
            "description": d.description, "custom": custom,
        }
        run_validators(ctx, ENTITY, values, None, errors)
        row = Opportunity(**values, created_by_id=ctx.actor.id, stage_entered_at=now)
        s.add(row)
        s.flush()
        s.add(StageHistory(opportunity_id=row_id(row), stage_id=row_id(stage), actor_id=ctx.actor.id,
                           entered_at=now))
        record(ctx, s, action="opportunity.create", entity=ENTITY, entity_id=row.id,
               changes={k: [None, v] for k, v in public(row).items() if v not in (None, {}, "")},
               summary=row.name, event="opportunity.created", payload=event_payload(s, row))
        return to_read(s, row)


def get_opportunity(ctx: Ctx, opportunity_id: int) -> OpportunityRead:
    with ctx.reader() as s:
        row = fetch_in_scope(ctx.kernel, s, ctx.actor, ENTITY, opportunity_id, "pipeline.read")
        return to_read(s, row)


def update_opportunity(
    ctx: Ctx, opportunity_id: int, data: OpportunityUpdate | dict[str, Any],
    version: int | None = None,
) -> OpportunityRead:
    """Edit the fields of an opportunity (not its stage: see ``move_stage``). A ``probability``
    of ``null`` goes back to the stage's default; a changed amount voids an approval."""
    upd = parse(OpportunityUpdate, data).model_dump(exclude_unset=True)
    with ctx.uow() as s:
        row = fetch_in_scope(ctx.kernel, s, ctx.actor, ENTITY, opportunity_id, "pipeline.update",
                             for_update=True)
        check_version(row, version, "opportunity")
        before = public(row)
        errors: dict[str, list[str]] = {}
        if "custom" in upd:
            upd["custom"], errors = validate_custom(s, ENTITY, upd["custom"] or {}, row.custom,
                                                    ctx.kernel)
        for field in ("name", "amount", "currency"):
            if field in upd and upd[field] is None:
                errors.setdefault(field, []).append("cannot be empty")
        if "owner_id" in upd:
            if upd["owner_id"] is None:
                errors.setdefault("owner_id", []).append("cannot be empty")
            elif upd["owner_id"] != row.owner_id:
                check_owner(ctx, s, upd["owner_id"], "pipeline.update")
        if "probability" in upd:
            stage_p = next(st.probability for st in stages_of(s, row.pipeline_id)
                           if st.id == row.stage_id)
            if upd["probability"] is None:
                upd["probability"] = stage_p
            upd["probability_overridden"] = upd["probability"] != stage_p
        if "amount" in upd and upd["amount"] is not None and upd["amount"] != row.amount \
                and row.approval_status in ("pending", "approved"):
            upd["approval_status"] = "none"  # an approval is for the amount that was approved
            for a in s.scalars(select(Approval).where(col(Approval.opportunity_id) == row.id,
                                                      col(Approval.status) == "pending")):
                a.status = "cancelled"
        after = {**before, **upd}
        run_validators(ctx, ENTITY, after, row, errors)
        for k, v in upd.items():
            setattr(row, k, v)
        changes = changes_between(before, after)
        if not changes:
            return to_read(s, row)
        bump(row)
        record(ctx, s, action="opportunity.update", entity=ENTITY, entity_id=row.id,
               changes=changes, summary=row.name, event="opportunity.updated",
               payload={**event_payload(s, row), "version": row.version, "changes": changes})
        return to_read(s, row)


def delete_opportunity(ctx: Ctx, opportunity_id: int, version: int | None = None) -> None:
    with ctx.uow() as s:
        row = fetch_in_scope(ctx.kernel, s, ctx.actor, ENTITY, opportunity_id, "pipeline.delete",
                             for_update=True)
        check_version(row, version, "opportunity")
        payload = event_payload(s, row)
        snapshot = public(row)
        delete_recorded(ctx, s, row, entity=ENTITY, action="opportunity.delete",
                        event="opportunity.deleted", snapshot=snapshot, summary=payload["name"],
                        payload=payload)


def stage_history(ctx: Ctx, opportunity_id: int) -> list[HistoryRead]:
    """Every stage the opportunity went through, oldest first, with the time spent in each
    (the current stage: until now)."""
    with ctx.reader() as s:
        row = fetch_in_scope(ctx.kernel, s, ctx.actor, ENTITY, opportunity_id, "pipeline.read")
        keys = {st.id: st.key for st in stages_of(s, row.pipeline_id)}
        now = utcnow()
        out = []
        for h in s.scalars(select(StageHistory).where(col(StageHistory.opportunity_id) == row.id)
                           .order_by(col(StageHistory.entered_at), col(StageHistory.id))):
            end = h.left_at or now
            out.append(HistoryRead(
                id=h.id or 0, stage_id=h.stage_id, stage=keys.get(h.stage_id, ""),
                from_stage_id=h.from_stage_id, actor_id=h.actor_id, entered_at=h.entered_at,
                left_at=h.left_at, seconds_in_stage=int((_aware(end) - _aware(h.entered_at))
                                                        .total_seconds())))
        return out


def _aware(dt: Any) -> Any:
    from datetime import UTC

    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
