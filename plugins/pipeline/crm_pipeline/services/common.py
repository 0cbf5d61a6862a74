"""What the pipeline services share: stage lookups, reading rows, owner checks."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from crm_core.context import Ctx
from crm_core.errors import CRMError, NotFound, PermissionDenied, ValidationError
from crm_core.models import TeamMember, User
from crm_pipeline.models import Opportunity, Pipeline, Stage
from crm_pipeline.schemas import OpportunityRead, PipelineRead, StageRead

ENTITY = "pipeline.opportunity"
PUBLIC_FIELDS = ("customer_id", "pipeline_id", "stage_id", "name", "amount", "currency",
                 "probability", "probability_overridden", "status", "owner_id", "expected_close",
                 "lost_reason", "approval_status", "milestones", "description", "custom")


class ApprovalRequired(CRMError):
    """Winning an opportunity above the approval threshold needs a manager's approval first."""

    type = "approval-required"
    status = 409


def local_date(ctx: Ctx, when: datetime) -> Any:
    return when.astimezone(ZoneInfo(ctx.kernel.settings.default_timezone)).date()


def default_pipeline(s: Session) -> Pipeline:
    row = s.scalars(select(Pipeline).where(col(Pipeline.is_default).is_(True))
                    .order_by(col(Pipeline.id))).first()
    if row is None:
        row = s.scalars(select(Pipeline).order_by(col(Pipeline.id))).first()
    if row is None:
        raise NotFound("no pipeline is configured; an administrator must create one")
    return row


def pipeline_by_key(s: Session, key: str | None) -> Pipeline:
    if not key:
        return default_pipeline(s)
    row = s.scalars(select(Pipeline).where(col(Pipeline.key) == key)).first()
    if row is None:
        raise ValidationError("unknown pipeline", {"pipeline": [f"no pipeline {key!r}"]})
    return row


def stages_of(s: Session, pipeline_id: int, active_only: bool = False) -> list[Stage]:
    stmt = select(Stage).where(col(Stage.pipeline_id) == pipeline_id)
    if active_only:
        stmt = stmt.where(col(Stage.active).is_(True))
    return list(s.scalars(stmt.order_by(col(Stage.position), col(Stage.id))))


def stage_by_key(s: Session, pipeline_id: int, key: str | None, field: str = "stage") -> Stage:
    stages = stages_of(s, pipeline_id, active_only=True)
    if not key:
        opens = [st for st in stages if st.kind == "open"]
        if not opens:
            raise ValidationError("no open stage", {field: ["the pipeline has no open stage"]})
        return opens[0]
    for st in stages:
        if st.key == key:
            return st
    raise ValidationError("unknown stage", {field: [f"no stage {key!r} in this pipeline"]})


def stage_of_kind(s: Session, pipeline_id: int, kind: str) -> Stage:
    for st in stages_of(s, pipeline_id, active_only=True):
        if st.kind == kind:
            return st
    raise ValidationError(f"no {kind} stage", {"stage": [f"the pipeline has no {kind} stage"]})


def stage_read(st: Stage) -> StageRead:
    return StageRead.model_validate(st, from_attributes=True)


def pipeline_read(s: Session, p: Pipeline) -> PipelineRead:
    data = {k: getattr(p, k) for k in PipelineRead.model_fields if k != "stages"}
    return PipelineRead(**data, stages=[stage_read(st) for st in stages_of(s, p.id or 0)])


def to_read(s: Session, row: Opportunity) -> OpportunityRead:
    st = s.get(Stage, row.stage_id)
    data = {k: getattr(row, k) for k in OpportunityRead.model_fields if k != "stage"}
    return OpportunityRead(**data, stage=st.key if st else "")


def public(row: Opportunity) -> dict[str, Any]:
    return {k: getattr(row, k) for k in PUBLIC_FIELDS}


def event_payload(s: Session, row: Opportunity) -> dict[str, Any]:
    """The payload every opportunity.* event carries (contracts.md)."""
    st = s.get(Stage, row.stage_id)
    return {"id": row.id, "customer_id": row.customer_id, "owner_id": row.owner_id,
            "name": row.name, "amount": str(row.amount), "currency": row.currency,
            "stage": st.key if st else None, "status": row.status,
            "probability": row.probability}


def check_owner(ctx: Ctx, s: Session, owner_id: int, action: str) -> None:
    """The owner given to an opportunity must be active and within the actor's ``action`` scope
    (own: only yourself; team: a member of your teams; all: anyone)."""
    owner = s.get(User, owner_id)
    if owner is None or not owner.is_active:
        raise ValidationError("invalid owner", {"owner_id": ["no active user with this id"]})
    scope = ctx.actor.scope(action)
    if scope is None:
        raise PermissionDenied(f"{ctx.actor.login} may not {action}")
    if scope == "all" or owner_id == ctx.actor.id:
        return
    if scope == "own":
        raise PermissionDenied("you may only give opportunities to yourself")
    member = s.scalar(select(col(TeamMember.user_id)).where(
        col(TeamMember.user_id) == owner_id,
        col(TeamMember.team_id).in_(ctx.actor.team_ids or (-1,))))
    if member is None:
        raise PermissionDenied("the owner is not in your team")
