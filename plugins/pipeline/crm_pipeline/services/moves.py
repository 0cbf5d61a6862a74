"""Moving an opportunity through its stages: move, win, lose, reopen; milestones."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlmodel import col

from crm_core.context import Ctx
from crm_core.db import utcnow
from crm_core.errors import ValidationError
from crm_core.models import Customer
from crm_core.models.base import row_id
from crm_core.permissions.actor import SYSTEM
from crm_core.permissions.scope import fetch_in_scope, scope_clause
from crm_core.services.base import bump, check_version, record
from crm_pipeline.models import MILESTONES, Opportunity, Pipeline, Stage, StageHistory
from crm_pipeline.schemas import OpportunityRead
from crm_pipeline.services.common import (
    ENTITY,
    ApprovalRequired,
    event_payload,
    local_date,
    stage_by_key,
    stage_of_kind,
    to_read,
)


def needs_approval(pipeline: Pipeline, row: Opportunity) -> bool:
    threshold = pipeline.approval_threshold
    return threshold is not None and row.amount > threshold and row.approval_status != "approved"


def move_stage(
    ctx: Ctx, opportunity_id: int, stage: str, version: int | None = None,
    lost_reason: str | None = None,
) -> OpportunityRead:
    """Move to the stage with key ``stage`` of the opportunity's pipeline.

    The probability follows the new stage unless it was overridden (won and lost stages always
    set theirs). A lost stage needs ``lost_reason``; a won stage needs an approval when the
    amount is above the pipeline's threshold, and marks the customer as won in the same
    transaction. Emits ``opportunity.stage_changed`` and ``opportunity.won`` /
    ``opportunity.lost``."""
    lost_reason = (lost_reason or "").strip() or None
    with ctx.uow() as s:
        row = fetch_in_scope(ctx.kernel, s, ctx.actor, ENTITY, opportunity_id, "pipeline.update",
                             for_update=True)
        check_version(row, version, "opportunity")
        target = stage_by_key(s, row.pipeline_id, stage)
        return _move(ctx, s, row, target, lost_reason)


def win_opportunity(ctx: Ctx, opportunity_id: int, version: int | None = None) -> OpportunityRead:
    with ctx.uow() as s:
        row = fetch_in_scope(ctx.kernel, s, ctx.actor, ENTITY, opportunity_id, "pipeline.update",
                             for_update=True)
        check_version(row, version, "opportunity")
        return _move(ctx, s, row, stage_of_kind(s, row.pipeline_id, "won"), None)


def lose_opportunity(
    ctx: Ctx, opportunity_id: int, reason: str | None, version: int | None = None
) -> OpportunityRead:
    reason = (reason or "").strip() or None
    with ctx.uow() as s:
        row = fetch_in_scope(ctx.kernel, s, ctx.actor, ENTITY, opportunity_id, "pipeline.update",
                             for_update=True)
        check_version(row, version, "opportunity")
        return _move(ctx, s, row, stage_of_kind(s, row.pipeline_id, "lost"), reason,
                     field="reason")


def _move(ctx: Ctx, s: Any, row: Opportunity, target: Stage, lost_reason: str | None,
          field: str = "lost_reason") -> OpportunityRead:
    if target.id == row.stage_id:
        return to_read(s, row)
    if target.kind == "lost" and not lost_reason:
        raise ValidationError("a lost opportunity needs a reason",
                              {field: ["say why the opportunity was lost"]})
    pipeline = s.get(Pipeline, row.pipeline_id)
    if target.kind == "won" and needs_approval(pipeline, row):
        raise ApprovalRequired(
            f"opportunities above {pipeline.approval_threshold} {row.currency} need a sales "
            "manager's approval before they can be won; request an approval first",
            approval_status=row.approval_status)
    now = utcnow()
    before_stage = row.stage_id
    before = {"stage_id": row.stage_id, "status": row.status, "probability": row.probability,
              "lost_reason": row.lost_reason}
    s.execute(update(StageHistory).where(col(StageHistory.opportunity_id) == row.id,
                                         col(StageHistory.left_at).is_(None)).values(left_at=now))
    s.add(StageHistory(opportunity_id=row_id(row), stage_id=row_id(target), from_stage_id=before_stage,
                       actor_id=ctx.actor.id, entered_at=now))
    row.stage_id = target.id or 0
    row.stage_entered_at = now
    row.status = target.kind
    if target.kind != "open" or not row.probability_overridden:
        row.probability = target.probability
        row.probability_overridden = False
    row.lost_reason = lost_reason if target.kind == "lost" else None
    row.closed_at = now if target.kind != "open" else None
    row.closed_on = local_date(ctx, now) if target.kind != "open" else None
    after = {"stage_id": row.stage_id, "status": row.status, "probability": row.probability,
             "lost_reason": row.lost_reason}
    changes = {k: [before[k], v] for k, v in after.items() if before[k] != v}
    bump(row)
    payload = {**event_payload(s, row), "from_stage": _key(s, before_stage),
               "version": row.version}
    record(ctx, s, action="opportunity.move", entity=ENTITY, entity_id=row.id, changes=changes,
           summary=f"{row.name}: {_key(s, before_stage)} → {target.key}",
           event="opportunity.stage_changed", payload=payload)
    if target.kind == "won":
        _mark_customer_won(ctx, s, row.customer_id)
        ctx.kernel.events.emit(ctx, s, "opportunity.won", ENTITY, row.id, payload)
    elif target.kind == "lost":
        ctx.kernel.events.emit(ctx, s, "opportunity.lost", ENTITY, row.id,
                               {**payload, "lost_reason": row.lost_reason})
    return to_read(s, row)


def _key(s: Any, stage_id: int) -> str | None:
    st = s.get(Stage, stage_id)
    return st.key if st else None


def _mark_customer_won(ctx: Ctx, s: Any, customer_id: int) -> None:
    """Through the kernel's customer service (audit, customer.updated event), in this
    transaction. The seller acts when they may edit the customer; otherwise the change is the
    system's on their behalf (a rep winning a deal on a customer they may only read)."""
    from crm_core.services.customers import update_customer

    status = s.scalar(select(col(Customer.status)).where(col(Customer.id) == customer_id))
    if status == "won":
        return
    may_edit = s.scalar(select(col(Customer.id)).where(
        col(Customer.id) == customer_id,
        scope_clause(ctx.kernel, ctx.actor, "customer", "customers.update")))
    actor = ctx.actor if may_edit is not None else SYSTEM
    inner = Ctx(ctx.kernel, actor, "plugin" if actor is SYSTEM else ctx.interface, s)
    update_customer(inner, customer_id, {"status": "won"})


def set_milestone(
    ctx: Ctx, opportunity_id: int, key: str, done: bool, version: int | None = None
) -> OpportunityRead:
    """Tick or untick one of the milestones (lead → needs confirmed → quote → contract →
    payment received); a ticked milestone records when and by whom."""
    if key not in MILESTONES:
        raise ValidationError("unknown milestone", {"key": [f"one of {', '.join(MILESTONES)}"]})
    with ctx.uow() as s:
        row = fetch_in_scope(ctx.kernel, s, ctx.actor, ENTITY, opportunity_id, "pipeline.update",
                             for_update=True)
        check_version(row, version, "opportunity")
        current = dict(row.milestones or {})
        if bool(current.get(key)) == done:
            return to_read(s, row)
        before = current.get(key)
        if done:
            current[key] = {"at": utcnow().isoformat(), "by": ctx.actor.id}
        else:
            current.pop(key, None)
        row.milestones = current
        bump(row)
        record(ctx, s, action="opportunity.milestone", entity=ENTITY, entity_id=row.id,
               changes={f"milestones.{key}": [before, current.get(key)]},
               summary=f"{row.name}: {key} {'done' if done else 'undone'}",
               event="opportunity.updated",
               payload={**event_payload(s, row), "version": row.version,
                        "changes": {f"milestones.{key}": [before, current.get(key)]}})
        return to_read(s, row)
