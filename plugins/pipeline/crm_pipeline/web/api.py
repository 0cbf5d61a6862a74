"""``/api/v1/pipeline/…``: opportunities (CRUD with ETag / If-Match, keyset list, move, win,
lose, milestones, history), approvals, pipelines and stages, forecast — thin handlers over the
services, validated and documented (OpenAPI) with the same models."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from crm_core.declarations import RouteDecl
from crm_core.errors import Conflict, PreconditionFailed
from crm_core.services.base import jsonable
from crm_core.web import ctx_for
from crm_core.web.api import read_body, read_if_match, read_query
from crm_pipeline import services as svc
from crm_pipeline.schemas import (
    ApprovalDecisionIn,
    ApprovalRead,
    ApprovalRequestIn,
    HistoryRead,
    LoseIn,
    MilestoneIn,
    MoveIn,
    OpportunityCreate,
    OpportunityQuery,
    OpportunityRead,
    OpportunityUpdate,
    PipelineIn,
    PipelineRead,
    PipelineUpdate,
    StageIn,
    StageRead,
    StageUpdate,
)
from crm_pipeline.services import approvals, config, forecast, queries


class NoQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OpportunityPage(BaseModel):
    items: list[OpportunityRead]
    next_cursor: str | None
    limit: int


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cursor: str | None = None
    limit: int | None = None


class HistoryList(BaseModel):
    items: list[HistoryRead]


class ApprovalList(BaseModel):
    items: list[ApprovalRead]


class PipelineList(BaseModel):
    items: list[PipelineRead]


class ForecastQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    group: str = Field(default="month", pattern="^(month|owner|team)$")
    start: date | None = None
    end: date | None = None


class ForecastItem(BaseModel):
    key: str
    label: str
    currency: str
    open_count: int
    open_amount: Decimal
    weighted: Decimal
    won_count: int
    won_amount: Decimal


class ForecastOut(BaseModel):
    group: str
    items: list[ForecastItem]


_UPDATE = ("Send `If-Match` with the `ETag` of the version you edited: 428 without it, 412 "
           "(with `current_version`) when someone changed the opportunity meanwhile.")
_OPTIONAL = "With `If-Match`, only the named version is changed (412 otherwise)."


def _json(data: Any, status: int = 200, etag: bool = False) -> JSONResponse:
    body = data.model_dump(mode="json") if isinstance(data, BaseModel) else jsonable(data)
    headers = {"ETag": f'W/"{body["version"]}"'} if etag else {}
    return JSONResponse(body, status_code=status, headers=headers)


def _versioned(request: Request, mode: str, act: Callable[[int | None], Any]) -> Any:
    """Run ``act(version)`` with the version from If-Match; a stale one is 412."""
    version = read_if_match(request, mode)
    try:
        return act(version)
    except PreconditionFailed:
        raise
    except Conflict as exc:
        if version is not None and "current_version" in exc.extra:
            raise PreconditionFailed(exc.message, **exc.extra) from None
        raise


def _id(request: Request) -> int:
    value: int = request.path_params["id"]
    return value


def _no_query(request: Request) -> None:
    read_query(request, NoQuery)


# --- opportunities ---------------------------------------------------------------------------
def list_opportunities(request: Request) -> Response:
    q, _custom = read_query(request, OpportunityQuery)
    page = queries.list_opportunities(ctx_for(request), q)
    return _json(OpportunityPage(items=page.items, next_cursor=page.next_cursor, limit=page.limit))


def create_opportunity(request: Request) -> Response:
    _no_query(request)
    opp = svc.create_opportunity(ctx_for(request), read_body(request, OpportunityCreate))
    r = _json(opp, 201, etag=True)
    r.headers["Location"] = f"/api/v1/pipeline/opportunities/{opp.id}"
    return r


def get_opportunity(request: Request) -> Response:
    _no_query(request)
    return _json(svc.get_opportunity(ctx_for(request), _id(request)), etag=True)


def update_opportunity(request: Request) -> Response:
    _no_query(request)
    body = read_body(request, OpportunityUpdate)
    ctx = ctx_for(request)
    return _json(_versioned(request, "required", lambda v: svc.update_opportunity(
        ctx, _id(request), body, version=v)), etag=True)


def delete_opportunity(request: Request) -> Response:
    _no_query(request)
    ctx = ctx_for(request)
    _versioned(request, "optional", lambda v: svc.delete_opportunity(ctx, _id(request), version=v))
    return Response(status_code=204)


def move_opportunity(request: Request) -> Response:
    _no_query(request)
    body = read_body(request, MoveIn)
    ctx = ctx_for(request)
    return _json(_versioned(request, "optional", lambda v: svc.move_stage(
        ctx, _id(request), body.stage, version=v, lost_reason=body.lost_reason)), etag=True)


def win_opportunity(request: Request) -> Response:
    _no_query(request)
    ctx = ctx_for(request)
    return _json(_versioned(request, "optional", lambda v: svc.win_opportunity(
        ctx, _id(request), version=v)), etag=True)


def lose_opportunity(request: Request) -> Response:
    _no_query(request)
    body = read_body(request, LoseIn)
    ctx = ctx_for(request)
    return _json(_versioned(request, "optional", lambda v: svc.lose_opportunity(
        ctx, _id(request), body.reason, version=v)), etag=True)


def set_milestone(request: Request) -> Response:
    _no_query(request)
    body = read_body(request, MilestoneIn)
    ctx = ctx_for(request)
    return _json(_versioned(request, "optional", lambda v: svc.set_milestone(
        ctx, _id(request), body.key, body.done, version=v)), etag=True)


def history(request: Request) -> Response:
    _no_query(request)
    return _json(HistoryList(items=svc.stage_history(ctx_for(request), _id(request))))


# --- approvals -------------------------------------------------------------------------------
def list_approvals(request: Request) -> Response:
    _no_query(request)
    return _json(ApprovalList(items=approvals.approvals_of(ctx_for(request), _id(request))))


def request_approval(request: Request) -> Response:
    _no_query(request)
    body = read_body(request, ApprovalRequestIn, required=False)
    return _json(approvals.request_approval(ctx_for(request), _id(request), body.comment), 201)


def decide_approval(request: Request) -> Response:
    _no_query(request)
    body = read_body(request, ApprovalDecisionIn)
    return _json(approvals.decide_approval(ctx_for(request), _id(request), body.approve,
                                           body.comment))


def pending_approvals(request: Request) -> Response:
    q, _ = read_query(request, PageQuery)
    page = approvals.pending_approvals(ctx_for(request), q.cursor, q.limit)
    return _json(OpportunityPage(items=page.items, next_cursor=page.next_cursor, limit=page.limit))


# --- pipelines and stages --------------------------------------------------------------------
def list_pipelines(request: Request) -> Response:
    _no_query(request)
    return _json(PipelineList(items=config.list_pipelines(ctx_for(request))))


def create_pipeline(request: Request) -> Response:
    _no_query(request)
    return _json(config.create_pipeline(ctx_for(request), read_body(request, PipelineIn)), 201,
                 etag=True)


def get_pipeline(request: Request) -> Response:
    _no_query(request)
    return _json(config.get_pipeline(ctx_for(request), request.path_params["key"]), etag=True)


def update_pipeline(request: Request) -> Response:
    _no_query(request)
    body = read_body(request, PipelineUpdate)
    ctx = ctx_for(request)
    return _json(_versioned(request, "optional", lambda v: config.update_pipeline(
        ctx, request.path_params["key"], body, version=v)), etag=True)


def add_stage(request: Request) -> Response:
    _no_query(request)
    body = read_body(request, StageIn)
    return _json(config.add_stage(ctx_for(request), request.path_params["key"], body), 201)


def update_stage(request: Request) -> Response:
    _no_query(request)
    body = read_body(request, StageUpdate)
    return _json(config.update_stage(ctx_for(request), request.path_params["key"],
                                     request.path_params["stage"], body))


# --- forecast --------------------------------------------------------------------------------
def get_forecast(request: Request) -> Response:
    q, _ = read_query(request, ForecastQuery)
    rows = forecast.forecast(ctx_for(request), q.group, q.start, q.end)
    return _json(ForecastOut(group=q.group, items=[ForecastItem(**r.__dict__) for r in rows]))


def routes() -> list[RouteDecl]:
    o, one = "/opportunities", "/opportunities/{id:int}"
    tag = ("pipeline",)

    def api(path: str, fn: Callable[..., Any], method: str, perm: str, name: str, summary: str,
            **kw: Any) -> RouteDecl:
        return RouteDecl(path, fn, methods=(method,), permission=perm, api=True, name=name,
                         summary=summary, tags=tag, **kw)

    return [
        api(o, list_opportunities, "GET", "pipeline.read", "listOpportunities",
            "List opportunities (keyset pages)", query_model=OpportunityQuery,
            response_model=OpportunityPage,
            description="Follow `next_cursor` until it is null. Sorts: id, amount, name, "
                        "created_at, updated_at (prefix - for descending)."),
        api(o, create_opportunity, "POST", "pipeline.create", "createOpportunity",
            "Create an opportunity", request_model=OpportunityCreate,
            response_model=OpportunityRead, status_code=201,
            description="`stage` is a stage key (default: the first stage); the probability "
                        "defaults from the stage; the owner defaults to you."),
        api(one, get_opportunity, "GET", "pipeline.read", "getOpportunity",
            "Read an opportunity (ETag = its version)", response_model=OpportunityRead),
        api(one, update_opportunity, "PATCH", "pipeline.update", "updateOpportunity",
            "Change an opportunity's fields", request_model=OpportunityUpdate,
            response_model=OpportunityRead, description=_UPDATE),
        api(one, delete_opportunity, "DELETE", "pipeline.delete", "deleteOpportunity",
            "Delete an opportunity", status_code=204, description=_OPTIONAL),
        api(f"{one}/move", move_opportunity, "POST", "pipeline.update", "moveOpportunity",
            "Move to another stage", request_model=MoveIn, response_model=OpportunityRead,
            description="A lost stage needs `lost_reason`; a won stage may need an approval "
                        "(409 approval-required). " + _OPTIONAL),
        api(f"{one}/win", win_opportunity, "POST", "pipeline.update", "winOpportunity",
            "Mark as won (the customer becomes won)", response_model=OpportunityRead,
            description=_OPTIONAL),
        api(f"{one}/lose", lose_opportunity, "POST", "pipeline.update", "loseOpportunity",
            "Mark as lost, with a reason", request_model=LoseIn, response_model=OpportunityRead,
            description=_OPTIONAL),
        api(f"{one}/milestones", set_milestone, "POST", "pipeline.update", "setMilestone",
            "Tick or untick a milestone", request_model=MilestoneIn,
            response_model=OpportunityRead, description=_OPTIONAL),
        api(f"{one}/history", history, "GET", "pipeline.read", "opportunityHistory",
            "Stage history with the time in each stage", response_model=HistoryList),
        api(f"{one}/approvals", list_approvals, "GET", "pipeline.read", "listApprovals",
            "Approval requests of an opportunity", response_model=ApprovalList),
        api(f"{one}/approvals", request_approval, "POST", "pipeline.update", "requestApproval",
            "Ask the sales manager to approve", request_model=ApprovalRequestIn,
            response_model=ApprovalRead, status_code=201),
        api(f"{one}/approvals/decision", decide_approval, "POST", "pipeline.approve",
            "decideApproval", "Approve or reject the pending request",
            request_model=ApprovalDecisionIn, response_model=ApprovalRead,
            description="A rejection needs a comment. Nobody decides on their own opportunity "
                        "(except with scope all)."),
        api("/approvals/pending", pending_approvals, "GET", "pipeline.approve", "pendingApprovals",
            "Opportunities awaiting your approval", query_model=PageQuery,
            response_model=OpportunityPage),
        api("/pipelines", list_pipelines, "GET", "pipeline.read", "listPipelines",
            "Pipelines and their stages", response_model=PipelineList),
        api("/pipelines", create_pipeline, "POST", "pipeline.manage", "createPipeline",
            "Create a pipeline (stages copied from the default)", request_model=PipelineIn,
            response_model=PipelineRead, status_code=201),
        api("/pipelines/{key}", get_pipeline, "GET", "pipeline.read", "getPipeline",
            "Read a pipeline", response_model=PipelineRead),
        api("/pipelines/{key}", update_pipeline, "PATCH", "pipeline.manage", "updatePipeline",
            "Rename, set the approval threshold, make default", request_model=PipelineUpdate,
            response_model=PipelineRead, description=_OPTIONAL),
        api("/pipelines/{key}/stages", add_stage, "POST", "pipeline.manage", "addStage",
            "Add a stage", request_model=StageIn, response_model=StageRead, status_code=201),
        api("/pipelines/{key}/stages/{stage}", update_stage, "PATCH", "pipeline.manage",
            "updateStage", "Rename, re-weight, reorder or switch off a stage",
            request_model=StageUpdate, response_model=StageRead),
        api("/forecast", get_forecast, "GET", "pipeline.read", "forecast",
            "Forecast by month, owner or team", query_model=ForecastQuery,
            response_model=ForecastOut,
            description="Open opportunities count in the month of their expected close date, "
                        "won ones in the month they were won. `weighted` = Σ amount × "
                        "probability. `start` / `end` limit the dates (YYYY-MM-DD)."),
    ]
