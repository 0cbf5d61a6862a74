"""Approval of large opportunities: request → approve / reject with a comment, audited.

An opportunity whose amount is above its pipeline's ``approval_threshold`` can only be won once
approved by someone holding ``pipeline.approve`` over it (by default: the sales manager of the
owner's team, or an admin). The approvers are notified in-app (and by email) through the kernel's
notification service; managers also see a "pending approvals" list."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import col

from crm_core.context import Ctx
from crm_core.db import utcnow
from crm_core.errors import Conflict, PermissionDenied, ValidationError
from crm_core.models import Team, TeamMember, User
from crm_core.permissions.scope import fetch_in_scope, scope_clause
from crm_core.services.base import Page, bump, clamp_limit, decode_cursor, encode_cursor, record
from crm_pipeline.models import Approval, Opportunity, Pipeline
from crm_pipeline.schemas import ApprovalRead, OpportunityRead
from crm_pipeline.services.common import ENTITY, event_payload, to_read


def _read(a: Approval) -> ApprovalRead:
    return ApprovalRead.model_validate(a, from_attributes=True)


def approvers_of(s: Any, owner_id: int | None) -> list[User]:
    """The managers of the owner's teams (active users), the people asked to approve."""
    if owner_id is None:
        return []
    teams = select(col(TeamMember.team_id)).where(col(TeamMember.user_id) == owner_id)
    return list(s.scalars(
        select(User).join(Team, col(Team.manager_id) == User.id)
        .where(col(Team.id).in_(teams), col(User.is_active).is_(True), col(User.id) != owner_id)
        .distinct().order_by(col(User.id))))


def request_approval(ctx: Ctx, opportunity_id: int, comment: str | None = None) -> ApprovalRead:
    with ctx.uow() as s:
        row = fetch_in_scope(ctx.kernel, s, ctx.actor, ENTITY, opportunity_id, "pipeline.update",
                             for_update=True)
        pipeline = s.get(Pipeline, row.pipeline_id)
        if row.status != "open":
            raise ValidationError("not open", {"approval": ["only an open opportunity needs an approval"]})
        threshold = pipeline.approval_threshold if pipeline else None
        if threshold is None or row.amount <= threshold:
            raise ValidationError("no approval needed", {"approval": [
                "this opportunity's amount does not need an approval"]})
        if row.approval_status == "pending":
            raise Conflict("an approval request is already pending for this opportunity")
        if row.approval_status == "approved":
            raise Conflict("this opportunity is already approved")
        a = Approval(opportunity_id=row.id, amount=row.amount, requested_by_id=ctx.actor.id,
                     request_comment=(comment or "").strip() or None)
        s.add(a)
        row.approval_status = "pending"
        bump(row)
        s.flush()
        record(ctx, s, action="opportunity.approval_request", entity=ENTITY, entity_id=row.id,
               changes={"approval_status": ["none", "pending"]},
               summary=f"{row.name}: approval requested ({row.amount} {row.currency})",
               event="opportunity.approval_requested",
               payload={**event_payload(s, row), "approval_id": a.id})
        _notify_approvers(ctx, s, row, a)
        return _read(a)


def _notify_approvers(ctx: Ctx, s: Any, row: Opportunity, a: Approval) -> None:
    try:
        from crm_core.services.notifications import notify
    except ImportError:  # an older kernel: managers see the pending list instead
        return
    for user in approvers_of(s, row.owner_id):
        if user.locale == "en":
            title = f"Approval requested: {row.name}"
            body = f"{row.amount:,} {row.currency} — please approve or reject."
        else:
            title = f"待审批销售机会：{row.name}"
            body = f"金额 {row.amount:,} {row.currency}，请审批。"
        notify(ctx, user.id or 0, "pipeline.approval", title, body,
               f"/pipeline/opportunities/{row.id}", f"pipeline.approval.{a.id}.{user.id}")


def decide_approval(
    ctx: Ctx, opportunity_id: int, approve: bool, comment: str | None = None
) -> ApprovalRead:
    """Approve or reject the pending request. Needs ``pipeline.approve`` over the opportunity;
    nobody approves their own opportunity unless they may approve everything (admin)."""
    with ctx.uow() as s:
        row = fetch_in_scope(ctx.kernel, s, ctx.actor, ENTITY, opportunity_id, "pipeline.approve",
                             for_update=True)
        if row.owner_id == ctx.actor.id and ctx.actor.scope("pipeline.approve") != "all":
            raise PermissionDenied("you may not approve your own opportunity")
        a = s.scalars(select(Approval).where(col(Approval.opportunity_id) == row.id,
                                             col(Approval.status) == "pending")
                      .order_by(col(Approval.id).desc())).first()
        if a is None or row.approval_status != "pending":
            raise Conflict("there is no pending approval request for this opportunity")
        comment = (comment or "").strip() or None
        if not approve and not comment:
            raise ValidationError("a rejection needs a comment",
                                  {"comment": ["say why the request is rejected"]})
        a.status = "approved" if approve else "rejected"
        a.decided_by_id = ctx.actor.id
        a.decided_at = utcnow()
        a.comment = comment
        row.approval_status = a.status
        bump(row)
        record(ctx, s, action=f"opportunity.approval_{'approve' if approve else 'reject'}",
               entity=ENTITY, entity_id=row.id, changes={"approval_status": ["pending", a.status],
                                                         "comment": [None, comment]},
               summary=f"{row.name}: {a.status}", event=f"opportunity.{a.status}",
               payload={**event_payload(s, row), "approval_id": a.id, "comment": comment})
        _notify_requester(ctx, s, row, a)
        return _read(a)


def _notify_requester(ctx: Ctx, s: Any, row: Opportunity, a: Approval) -> None:
    try:
        from crm_core.services.notifications import notify
    except ImportError:
        return
    if a.requested_by_id is None or a.requested_by_id == ctx.actor.id:
        return
    user = s.get(User, a.requested_by_id)
    if user is None:
        return
    ok = a.status == "approved"
    if user.locale == "en":
        title = f"{'Approved' if ok else 'Rejected'}: {row.name}"
    else:
        title = f"{'审批通过' if ok else '审批被驳回'}：{row.name}"
    notify(ctx, user.id or 0, "pipeline.approval_decided", title, a.comment or "",
           f"/pipeline/opportunities/{row.id}", f"pipeline.approval.{a.id}.decided")


def approvals_of(ctx: Ctx, opportunity_id: int) -> list[ApprovalRead]:
    with ctx.reader() as s:
        row = fetch_in_scope(ctx.kernel, s, ctx.actor, ENTITY, opportunity_id, "pipeline.read")
        return [_read(a) for a in s.scalars(select(Approval).where(
            col(Approval.opportunity_id) == row.id).order_by(col(Approval.id)))]


def pending_approvals(ctx: Ctx, cursor: str | None = None,
                      limit: int | None = None) -> Page[OpportunityRead]:
    """Opportunities awaiting a decision that the actor may approve (oldest first), except
    their own (which someone else decides)."""
    n = clamp_limit(limit)
    with ctx.reader() as s:
        stmt = select(Opportunity).where(
            col(Opportunity.approval_status) == "pending",
            scope_clause(ctx.kernel, ctx.actor, ENTITY, "pipeline.approve"))
        if ctx.actor.scope("pipeline.approve") != "all":
            stmt = stmt.where(col(Opportunity.owner_id) != ctx.actor.id)
        if cursor:
            (last,) = decode_cursor(cursor, 1)
            if not isinstance(last, int):
                raise ValidationError("invalid cursor", {"cursor": ["not a cursor from a previous page"]})
            stmt = stmt.where(col(Opportunity.id) > last)
        rows = list(s.scalars(stmt.order_by(col(Opportunity.id)).limit(n + 1)))
        more = len(rows) > n
        rows = rows[:n]
        return Page([to_read(s, r) for r in rows],
                    encode_cursor([rows[-1].id]) if more and rows else None, n)


def pending_count(ctx: Ctx, cap: int = 100) -> int:
    """How many requests await the actor's decision (counting stops at ``cap``)."""
    from sqlalchemy import func

    if not ctx.actor.can("pipeline.approve"):
        return 0
    with ctx.reader() as s:
        stmt = select(col(Opportunity.id)).where(
            col(Opportunity.approval_status) == "pending",
            scope_clause(ctx.kernel, ctx.actor, ENTITY, "pipeline.approve"))
        if ctx.actor.scope("pipeline.approve") != "all":
            stmt = stmt.where(col(Opportunity.owner_id) != ctx.actor.id)
        return int(s.scalar(select(func.count()).select_from(stmt.limit(cap).subquery())) or 0)
