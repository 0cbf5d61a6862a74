"""Pipelines and their stages, configured by administrators (``pipeline.manage``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import col

from crm_core.context import Ctx
from crm_core.errors import Conflict, NotFound, ValidationError
from crm_core.permissions.scope import require
from crm_core.services.base import bump, changes_between, check_version, parse, record
from crm_pipeline.models import Opportunity, Pipeline, Stage
from crm_pipeline.schemas import (
    PipelineIn,
    PipelineRead,
    PipelineUpdate,
    StageIn,
    StageRead,
    StageUpdate,
)
from crm_pipeline.services.common import pipeline_read, stage_read, stages_of

CONFIG = "pipeline.pipeline"


def list_pipelines(ctx: Ctx) -> list[PipelineRead]:
    """Every pipeline with its stages; any user who may read opportunities sees them."""
    with ctx.reader() as s:
        rows = s.scalars(select(Pipeline).order_by(col(Pipeline.is_default).desc(), col(Pipeline.id)))
        return [pipeline_read(s, p) for p in rows]


def _pipeline(s: Any, key: str) -> Pipeline:
    row = s.scalars(select(Pipeline).where(col(Pipeline.key) == key)).first()
    if row is None:
        raise NotFound(f"pipeline {key} not found")
    return row


def get_pipeline(ctx: Ctx, key: str) -> PipelineRead:
    with ctx.reader() as s:
        return pipeline_read(s, _pipeline(s, key))


def _make_default(s: Any, row: Pipeline) -> None:
    s.execute(update(Pipeline).where(col(Pipeline.id) != row.id).values(is_default=False))
    row.is_default = True


def create_pipeline(ctx: Ctx, data: PipelineIn | dict[str, Any]) -> PipelineRead:
    """A new pipeline, with the default stages copied so it is usable at once."""
    require(ctx.actor, "pipeline.manage")
    d = parse(PipelineIn, data)
    with ctx.uow() as s:
        if s.scalars(select(Pipeline).where(col(Pipeline.key) == d.key)).first():
            raise ValidationError("key taken", {"key": [f"a pipeline {d.key!r} exists already"]})
        row = Pipeline(key=d.key, name=d.name, name_en=d.name_en,
                       approval_threshold=d.approval_threshold)
        s.add(row)
        s.flush()
        if d.is_default:
            _make_default(s, row)
        template = s.scalars(select(Pipeline).where(col(Pipeline.id) != row.id)
                             .order_by(col(Pipeline.is_default).desc(), col(Pipeline.id))).first()
        for st in stages_of(s, template.id or 0) if template else []:
            s.add(Stage(pipeline_id=row.id or 0, key=st.key, name=st.name, name_en=st.name_en,
                        probability=st.probability, position=st.position, kind=st.kind))
        s.flush()
        record(ctx, s, action="pipeline.create", entity=CONFIG, entity_id=row.id,
               changes={"key": [None, d.key], "name": [None, d.name]}, summary=d.name)
        return pipeline_read(s, row)


def update_pipeline(ctx: Ctx, key: str, data: PipelineUpdate | dict[str, Any],
                    version: int | None = None) -> PipelineRead:
    """Rename, set or clear the approval threshold, make it the default."""
    require(ctx.actor, "pipeline.manage")
    upd = parse(PipelineUpdate, data).model_dump(exclude_unset=True)
    with ctx.uow() as s:
        row = _pipeline(s, key)
        check_version(row, version, "pipeline")
        before = {k: getattr(row, k) for k in upd}
        if upd.get("is_default") is False and row.is_default:
            raise ValidationError("keep a default", {"is_default": [
                "make another pipeline the default instead"]})
        for k, v in upd.items():
            if k == "is_default":
                if v:
                    _make_default(s, row)
                continue
            if v is None and k in ("name", "name_en"):
                continue
            setattr(row, k, v)
        changes = changes_between(before, {k: getattr(row, k) for k in upd})
        if changes:
            bump(row)
            record(ctx, s, action="pipeline.update", entity=CONFIG, entity_id=row.id,
                   changes=changes, summary=row.name)
        return pipeline_read(s, row)


def add_stage(ctx: Ctx, pipeline_key: str, data: StageIn | dict[str, Any]) -> StageRead:
    """A new stage; without ``position`` it goes after the last open stage."""
    require(ctx.actor, "pipeline.manage")
    d = parse(StageIn, data)
    with ctx.uow() as s:
        p = _pipeline(s, pipeline_key)
        stages = stages_of(s, p.id or 0)
        if any(st.key == d.key for st in stages):
            raise ValidationError("key taken", {"key": [f"this pipeline has a stage {d.key!r}"]})
        if d.kind != "open" and any(st.kind == d.kind and st.active for st in stages):
            raise ValidationError("one per pipeline", {"kind": [
                f"a pipeline has one {d.kind} stage; edit the existing one"]})
        opens = [st for st in stages if st.kind == "open"]
        position = d.position if d.position is not None else (
            (max(st.position for st in opens) + 1) if opens else 0)
        for st in stages:  # make room
            if st.position >= position:
                st.position += 1
        row = Stage(pipeline_id=p.id or 0, key=d.key, name=d.name, name_en=d.name_en,
                    probability=d.probability, position=position, kind=d.kind)
        s.add(row)
        s.flush()
        record(ctx, s, action="pipeline.stage_add", entity=CONFIG, entity_id=p.id,
               changes={f"stages.{d.key}": [None, d.model_dump()]}, summary=f"{p.name}: {d.name}")
        return stage_read(row)


def update_stage(ctx: Ctx, pipeline_key: str, stage_key: str,
                 data: StageUpdate | dict[str, Any]) -> StageRead:
    """Rename, change the default probability (opportunities whose probability was not
    overridden follow), reorder, or deactivate (only when no open opportunity is in it)."""
    require(ctx.actor, "pipeline.manage")
    upd = parse(StageUpdate, data).model_dump(exclude_unset=True)
    with ctx.uow() as s:
        p = _pipeline(s, pipeline_key)
        row = next((st for st in stages_of(s, p.id or 0) if st.key == stage_key), None)
        if row is None:
            raise NotFound(f"stage {stage_key} not found in pipeline {pipeline_key}")
        before = {k: getattr(row, k) for k in upd}
        if upd.get("active") is False and row.active:
            if row.kind != "open":
                raise ValidationError("required stage", {"active": [
                    "the won and lost stages cannot be switched off"]})
            n = s.scalar(select(func.count()).select_from(Opportunity).where(
                col(Opportunity.stage_id) == row.id, col(Opportunity.status) == "open"))
            if n:
                raise Conflict(f"{n} open opportunities are in this stage; move them first")
        for k, v in upd.items():
            if v is not None:
                setattr(row, k, v)
        if "probability" in upd and upd["probability"] is not None and row.kind == "open":
            s.execute(update(Opportunity).where(
                col(Opportunity.stage_id) == row.id,
                col(Opportunity.probability_overridden).is_(False),
            ).values(probability=row.probability, version=col(Opportunity.version) + 1))
        changes = changes_between(before, {k: getattr(row, k) for k in upd})
        if changes:
            bump(row)
            record(ctx, s, action="pipeline.stage_update", entity=CONFIG, entity_id=p.id,
                   changes={f"stages.{stage_key}.{k}": v for k, v in changes.items()},
                   summary=f"{p.name}: {row.name}")
        return stage_read(row)
