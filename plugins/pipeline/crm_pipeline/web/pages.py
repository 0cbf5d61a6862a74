"""Opportunity pages: the kanban board, the list, one opportunity (history, milestones,
approval), and the plain forms behind every action — each works without JavaScript."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from crm_core.errors import Conflict, ValidationError
from crm_core.web import ctx_for, form_data, render
from crm_pipeline import services as svc
from crm_pipeline.models import MILESTONES
from crm_pipeline.services import approvals, config, queries
from crm_pipeline.services.common import ApprovalRequired
from crm_pipeline.web.common import (
    APPROVAL_LABELS,
    MILESTONE_LABELS,
    STATUS_LABELS,
    FormErrors,
    int_or_none,
    query_string,
    rights,
    safe_next,
    text,
)

LIST_FILTERS = ("q", "status", "stage", "owner", "close_from", "close_to", "sort")


def _labels() -> dict[str, Any]:
    return {"status": STATUS_LABELS, "approval": APPROVAL_LABELS, "milestone": MILESTONE_LABELS}


def board_page(request: Request) -> Response:
    ctx = ctx_for(request)
    owner = "me" if request.query_params.get("mine") == "1" else None
    pipelines = config.list_pipelines(ctx)
    data = queries.board(ctx, request.query_params.get("pipeline") or None, owner)
    return render(request, "pipeline/board.html", board=data, pipelines=pipelines,
                  mine=owner == "me", labels=_labels(), notice=request.query_params.get("done"),
                  can_create=ctx.actor.can("pipeline.create"),
                  can_move=ctx.actor.can("pipeline.update"))


def list_page(request: Request) -> Response:
    ctx = ctx_for(request)
    params = {k: request.query_params.get(k, "").strip() for k in (*LIST_FILTERS, "cursor")}
    query = {k: v for k, v in params.items() if v}
    errors = FormErrors()
    try:
        page = queries.list_opportunities(ctx, query)
    except ValidationError as exc:
        errors = FormErrors(exc.errors, LIST_FILTERS)
        page = queries.list_opportunities(ctx, None)
    customers = queries.customer_names(ctx, {o.customer_id for o in page.items})
    users = queries.user_names(ctx, {o.owner_id for o in page.items})
    stages = {st.id: st for p in config.list_pipelines(ctx) for st in p.stages}
    base = {k: v for k, v in params.items() if k != "cursor"}
    next_url = (f"/pipeline/list?{query_string(base, cursor=page.next_cursor)}"
                if page.next_cursor else None)
    return render(request, "pipeline/list.html", page=page, params=params, errors=errors,
                  customers=customers, users=users, stages=stages, labels=_labels(),
                  next_url=next_url, first_url=f"/pipeline/list?{query_string(base)}"
                  if params.get("cursor") else None,
                  all_stages=_unique_stages(stages.values()))


def _unique_stages(stages: Any) -> list[Any]:
    seen: dict[str, Any] = {}
    for st in stages:
        seen.setdefault(st.key, st)
    return list(seen.values())


def detail_page(request: Request, *, move_errors: FormErrors | None = None,
                approval_errors: FormErrors | None = None, values: dict[str, str] | None = None,
                status_code: int = 200, alert: str | None = None) -> Response:
    ctx = ctx_for(request)
    opp = svc.get_opportunity(ctx, request.path_params["id"])
    history = svc.stage_history(ctx, opp.id)
    pipeline = next(p for p in config.list_pipelines(ctx) if p.id == opp.pipeline_id)
    stages = {st.id: st for st in pipeline.stages}
    reqs = approvals.approvals_of(ctx, opp.id)
    users = queries.user_names(ctx, {opp.owner_id, *(h.actor_id for h in history),
                                     *(a.requested_by_id for a in reqs),
                                     *(a.decided_by_id for a in reqs)})
    customer = queries.customer_names(ctx, {opp.customer_id}).get(opp.customer_id)
    needs = (pipeline.approval_threshold is not None and opp.amount > pipeline.approval_threshold
             and opp.status == "open")
    return render(
        request, "pipeline/detail.html", status_code=status_code, opp=opp, history=history,
        pipeline=pipeline, stages=stages, approvals=reqs, users=users, customer=customer,
        rights=rights(ctx, opp.id), labels=_labels(), milestones=MILESTONES,
        needs_approval=needs, move_errors=move_errors or FormErrors(),
        approval_errors=approval_errors or FormErrors(),
        values=values if values is not None else {"stage": request.query_params.get("stage", "")},
        notice=request.query_params.get("done"), alert=alert)


def _back(request: Request, opp_id: int, done: str) -> Response:
    default = f"/pipeline/opportunities/{opp_id}"
    target = safe_next(text(form_data(request), "next", 500), default)
    sep = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{sep}done={done}", 303)


def _version(request: Request) -> int | None:
    return int_or_none(text(form_data(request), "version", 20))


def move_submit(request: Request) -> Response:
    """``POST /pipeline/opportunities/{id}/move`` (stage, version, lost_reason, next)."""
    ctx = ctx_for(request)
    form = form_data(request)
    opp_id = request.path_params["id"]
    stage, reason = text(form, "stage", 40), text(form, "lost_reason", 1000)
    try:
        svc.move_stage(ctx, opp_id, stage, version=_version(request), lost_reason=reason)
    except ValidationError as exc:
        return detail_page(request, move_errors=FormErrors(exc.errors, ("stage", "lost_reason")),
                           values={"stage": stage, "lost_reason": reason}, status_code=422)
    except ApprovalRequired:
        return detail_page(request, values={"stage": stage}, status_code=409,
                           alert="approval_required")
    except Conflict:
        return detail_page(request, values={"stage": stage, "lost_reason": reason},
                           status_code=409, alert="stale")
    return _back(request, opp_id, "moved")


def win_submit(request: Request) -> Response:
    ctx = ctx_for(request)
    opp_id = request.path_params["id"]
    try:
        svc.win_opportunity(ctx, opp_id, version=_version(request))
    except ApprovalRequired:
        return detail_page(request, status_code=409, alert="approval_required")
    except Conflict:
        return detail_page(request, status_code=409, alert="stale")
    return _back(request, opp_id, "won")


def lose_submit(request: Request) -> Response:
    ctx = ctx_for(request)
    opp_id = request.path_params["id"]
    reason = text(form_data(request), "lost_reason", 1000)
    try:
        svc.lose_opportunity(ctx, opp_id, reason, version=_version(request))
    except ValidationError as exc:
        errors = {("lost_reason" if k == "reason" else k): v for k, v in exc.errors.items()}
        return detail_page(request, move_errors=FormErrors(errors, ("stage", "lost_reason")),
                           values={"lost_reason": reason}, status_code=422)
    except Conflict:
        return detail_page(request, values={"lost_reason": reason}, status_code=409, alert="stale")
    return _back(request, opp_id, "lost")


def milestone_submit(request: Request) -> Response:
    ctx = ctx_for(request)
    form = form_data(request)
    opp_id = request.path_params["id"]
    try:
        svc.set_milestone(ctx, opp_id, text(form, "key", 40), text(form, "done", 5) == "1",
                          version=_version(request))
    except Conflict:
        return detail_page(request, status_code=409, alert="stale")
    return RedirectResponse(f"/pipeline/opportunities/{opp_id}?done=milestone#milestones", 303)


def approval_request_submit(request: Request) -> Response:
    ctx = ctx_for(request)
    opp_id = request.path_params["id"]
    comment = text(form_data(request), "comment", 1000)
    try:
        approvals.request_approval(ctx, opp_id, comment)
    except ValidationError as exc:
        return detail_page(request, approval_errors=FormErrors(exc.errors, ("comment",)),
                           values={"comment": comment}, status_code=422)
    except Conflict:
        return detail_page(request, status_code=409, alert="approval_state")
    return RedirectResponse(f"/pipeline/opportunities/{opp_id}?done=requested#approval", 303)


def approval_decide_submit(request: Request) -> Response:
    ctx = ctx_for(request)
    form = form_data(request)
    opp_id = request.path_params["id"]
    comment = text(form, "comment", 1000)
    approve = text(form, "decision", 10) == "approve"
    try:
        approvals.decide_approval(ctx, opp_id, approve, comment)
    except ValidationError as exc:
        return detail_page(request, approval_errors=FormErrors(exc.errors, ("comment",)),
                           values={"comment": comment}, status_code=422)
    except Conflict:
        return detail_page(request, status_code=409, alert="approval_state")
    return RedirectResponse(
        f"/pipeline/opportunities/{opp_id}?done={'approved' if approve else 'rejected'}#approval",
        303)


def delete_page(request: Request) -> Response:
    ctx = ctx_for(request)
    opp = svc.get_opportunity(ctx, request.path_params["id"])
    if "pipeline.delete" not in rights(ctx, opp.id, ("pipeline.delete",)):
        from crm_core.errors import PermissionDenied

        raise PermissionDenied(f"{ctx.actor.login} may not delete opportunity {opp.id}")
    return render(request, "pipeline/delete.html", opp=opp)


def delete_submit(request: Request) -> Response:
    ctx = ctx_for(request)
    opp_id = request.path_params["id"]
    try:
        svc.delete_opportunity(ctx, opp_id, version=_version(request))
    except Conflict:
        return detail_page(request, status_code=409, alert="stale")
    return RedirectResponse("/pipeline/list?done=deleted", 303)
