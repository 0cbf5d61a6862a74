"""Forecast, pending approvals and the pipeline settings page (administrators)."""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from crm_core.errors import Conflict, NotFound, ValidationError
from crm_core.services.customers import local_today
from crm_core.web import ctx_for, form_data, render
from crm_core.web.i18n import N_
from crm_pipeline.services import approvals, config, forecast, queries
from crm_pipeline.web.common import FormErrors, int_or_none, text

GROUP_LABELS = {"month": N_("By month"), "owner": N_("By owner"), "team": N_("By team")}


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def forecast_page(request: Request) -> Response:
    ctx = ctx_for(request)
    group = request.query_params.get("group", "month")
    if group not in GROUP_LABELS:
        group = "month"
    today = local_today(ctx.actor.timezone)
    raw_start = request.query_params.get("start", "")
    raw_end = request.query_params.get("end", "")
    start = _date(raw_start) if raw_start else date(today.year, 1, 1)
    end = _date(raw_end) if raw_end else date(today.year + 1, 12, 31)
    errors: dict[str, list[str]] = {}
    if start is None:
        errors["start"] = ["Input should be a valid date"]
    if end is None:
        errors["end"] = ["Input should be a valid date"]
    rows: list[Any] = []
    if not errors:
        try:
            rows = forecast.forecast(ctx, group, start, end)
        except ValidationError as exc:
            errors = {("end" if k == "to" else k): v for k, v in exc.errors.items()}
    totals: dict[str, dict[str, Any]] = {}
    for r in rows:
        t = totals.setdefault(r.currency, {"open_count": 0, "open_amount": 0, "weighted": 0,
                                           "won_count": 0, "won_amount": 0})
        for k in t:
            t[k] += getattr(r, k)
    return render(request, "pipeline/forecast.html", rows=rows, totals=totals, group=group,
                  groups=GROUP_LABELS, start=raw_start or (start.isoformat() if start else ""),
                  end=raw_end or (end.isoformat() if end else ""),
                  errors=FormErrors(errors, ("start", "end")))


def approvals_page(request: Request) -> Response:
    ctx = ctx_for(request)
    cursor = request.query_params.get("cursor") or None
    try:
        page = approvals.pending_approvals(ctx, cursor)
    except ValidationError:
        page = approvals.pending_approvals(ctx)
    customers = queries.customer_names(ctx, {o.customer_id for o in page.items})
    users = queries.user_names(ctx, {o.owner_id for o in page.items})
    return render(request, "pipeline/approvals.html", page=page, customers=customers,
                  users=users)


# --- settings (pipeline.manage) -------------------------------------------------------------
STAGE_INPUTS = ("key", "name", "name_en", "probability", "kind")


def settings_page(request: Request, *, errors: dict[str, FormErrors] | None = None,
                  values: dict[str, dict[str, str]] | None = None,
                  status_code: int = 200) -> Response:
    ctx = ctx_for(request)
    return render(request, "pipeline/settings.html", status_code=status_code,
                  pipelines=config.list_pipelines(ctx), errors=errors or {}, values=values or {},
                  notice=request.query_params.get("done"))


def _form_errors(exc: ValidationError, inputs: tuple[str, ...]) -> FormErrors:
    return FormErrors(exc.errors, inputs)


def pipeline_submit(request: Request) -> Response:
    """Create a pipeline (no key in the path) or save one's name / threshold / default."""
    ctx = ctx_for(request)
    form = form_data(request)
    key = request.path_params.get("key")
    inputs = ("key", "name", "name_en", "approval_threshold", "is_default")
    vals = {k: text(form, k, 200) for k in inputs}
    data: dict[str, Any] = {"name": vals["name"], "name_en": vals["name_en"],
                            "approval_threshold": vals["approval_threshold"] or None}
    if vals["is_default"] == "1":
        data["is_default"] = True
    slot = key or "_new"
    try:
        if key:
            config.update_pipeline(ctx, key, data, version=int_or_none(text(form, "version", 20)))
        else:
            config.create_pipeline(ctx, {**data, "key": vals["key"]})
    except ValidationError as exc:
        return settings_page(request, errors={slot: _form_errors(exc, inputs)},
                             values={slot: vals}, status_code=422)
    except Conflict:
        return settings_page(request, errors={slot: FormErrors({"version": [
            "changed by someone else"]}, ())}, values={slot: vals}, status_code=409)
    return RedirectResponse("/pipeline/settings?done=saved", 303)


def stage_submit(request: Request) -> Response:
    """Add a stage (no stage key in the path) or save one."""
    ctx = ctx_for(request)
    form = form_data(request)
    key = request.path_params["key"]
    stage = request.path_params.get("stage")
    vals = {k: text(form, k, 100) for k in (*STAGE_INPUTS, "position", "active")}
    slot = f"{key}.{stage or '_new'}"
    try:
        if stage:
            data: dict[str, Any] = {"name": vals["name"], "name_en": vals["name_en"],
                                    "probability": vals["probability"] or None,
                                    "active": vals["active"] == "1"}
            if vals["position"]:
                data["position"] = vals["position"]
            config.update_stage(ctx, key, stage, data)
        else:
            config.add_stage(ctx, key, {k: vals[k] for k in STAGE_INPUTS if vals[k]})
    except ValidationError as exc:
        return settings_page(request, errors={slot: _form_errors(exc, (*STAGE_INPUTS, "position",
                                                                       "active"))},
                             values={slot: vals}, status_code=422)
    except (Conflict, NotFound) as exc:
        return settings_page(request, errors={slot: FormErrors({"active": [exc.message]}, ())},
                             values={slot: vals}, status_code=409)
    return RedirectResponse("/pipeline/settings?done=saved", 303)
