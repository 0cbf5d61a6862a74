"""New and edit opportunity forms: errors next to their fields in the user's language, what was
typed kept, a stale edit told apart from invalid input."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from crm_core.errors import Conflict, PermissionDenied, ValidationError
from crm_core.services.custom_fields import list_fields
from crm_core.web import ctx_for, form_data, render
from crm_pipeline import services as svc
from crm_pipeline.schemas import OpportunityRead
from crm_pipeline.services import config, queries
from crm_pipeline.services.common import ENTITY
from crm_pipeline.web.common import FormErrors, int_or_none, rights, text

INPUTS = ("customer_id", "name", "amount", "currency", "stage", "probability", "expected_close",
          "description", "pipeline", "owner_id")


def _values(form: Any, fields: list[Any]) -> dict[str, str]:
    values = {k: text(form, k, 4000) for k in (*INPUTS, "version")}
    for d in fields:
        values[f"cf_{d.key}"] = text(form, f"cf_{d.key}", 2000)
    return values


def _custom(values: dict[str, str], fields: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for d in fields:
        raw = values.get(f"cf_{d.key}") or None
        out[d.key] = {"true": True, "false": False}.get(raw or "") if d.type == "boolean" else raw
    return out


def _form(request: Request, *, opp: OpportunityRead | None, values: dict[str, str],
          errors: FormErrors | None = None, status_code: int = 200, stale: bool = False) -> Response:
    ctx = ctx_for(request)
    fields = list_fields(ctx, ENTITY)
    pipelines = config.list_pipelines(ctx)
    customer = None
    cid = int_or_none(values.get("customer_id", ""))
    if cid is not None:
        customer = queries.customer_names(ctx, {cid}).get(cid)
    choices: list[Any] = []
    if opp is None and customer is None:
        from crm_core.services.customers import list_customers

        choices = list_customers(ctx, {"limit": 200, "sort": "name"}).items
    return render(request, "pipeline/form.html", status_code=status_code, opp=opp, values=values,
                  errors=errors or FormErrors(), fields=fields, pipelines=pipelines,
                  customer=customer, choices=choices, stale=stale,
                  owners=possible_owners(ctx, "pipeline.update" if opp else "pipeline.create"))


def possible_owners(ctx: Any, action: str) -> list[tuple[int, str]]:
    """Whom the actor may give an opportunity to: nobody else with scope own (no choice is
    shown), their teams' members with team, every active user with all."""
    from sqlalchemy import select
    from sqlmodel import col

    from crm_core.models import TeamMember, User
    from crm_core.models.base import id_col

    scope = ctx.actor.scope(action)
    if scope not in ("team", "all"):
        return []
    stmt = select(id_col(User), col(User.display_name), col(User.login)).where(
        col(User.is_active).is_(True))
    if scope == "team":
        stmt = stmt.where(col(User.id).in_(select(col(TeamMember.user_id)).where(
            col(TeamMember.team_id).in_(ctx.actor.team_ids or (-1,)))) | (col(User.id) == ctx.actor.id))
    with ctx.reader() as s:
        return [(uid, name or login) for uid, name, login in s.execute(
            stmt.order_by(col(User.display_name), col(User.id)).limit(500))]


def _error_form(request: Request, exc: ValidationError, opp: OpportunityRead | None,
                values: dict[str, str]) -> Response:
    fields = list_fields(ctx_for(request), ENTITY)
    inputs = [*INPUTS, *(f"cf_{d.key}" for d in fields)]
    rename = {f"custom.{d.key}": f"cf_{d.key}" for d in fields}
    return _form(request, opp=opp, values=values, errors=FormErrors(exc.errors, inputs, rename),
                 status_code=422)


def new_form(request: Request) -> Response:
    values = {"customer_id": request.query_params.get("customer_id", "")[:12], "currency": "CNY"}
    return _form(request, opp=None, values=values)


def create_submit(request: Request) -> Response:
    ctx = ctx_for(request)
    fields = list_fields(ctx, ENTITY)
    values = _values(form_data(request), fields)
    data: dict[str, Any] = {
        "customer_id": int_or_none(values["customer_id"]), "name": values["name"],
        "amount": values["amount"] or "0", "currency": values["currency"] or "CNY",
        "stage": values["stage"] or None, "pipeline": values["pipeline"] or None,
        "probability": values["probability"] or None,
        "expected_close": values["expected_close"] or None,
        "description": values["description"] or None, "custom": _custom(values, fields),
        "owner_id": int_or_none(values["owner_id"]),
    }
    if data["customer_id"] is None:
        return _error_form(request, ValidationError("invalid input", {"customer_id": [
            "Field required"]}), None, values)
    try:
        opp = svc.create_opportunity(ctx, data)
    except ValidationError as exc:
        return _error_form(request, exc, None, values)
    except PermissionDenied as exc:  # an owner outside the actor's scope: say so by the field
        return _error_form(request, ValidationError("invalid owner", {"owner_id": [exc.message]}),
                           None, values)
    return RedirectResponse(f"/pipeline/opportunities/{opp.id}?done=created", 303)


def _editable(request: Request) -> OpportunityRead:
    ctx = ctx_for(request)
    opp = svc.get_opportunity(ctx, request.path_params["id"])
    if "pipeline.update" not in rights(ctx, opp.id, ("pipeline.update",)):
        raise PermissionDenied(f"{ctx.actor.login} may not edit opportunity {opp.id}")
    return opp


def _values_of(opp: OpportunityRead, fields: list[Any]) -> dict[str, str]:
    values = {"customer_id": str(opp.customer_id), "name": opp.name, "amount": str(opp.amount),
              "currency": opp.currency,
              "probability": str(opp.probability) if opp.probability_overridden else "",
              "expected_close": opp.expected_close.isoformat() if opp.expected_close else "",
              "description": opp.description or "", "version": str(opp.version),
              "owner_id": str(opp.owner_id or "")}
    for d in fields:
        v = opp.custom.get(d.key)
        values[f"cf_{d.key}"] = "" if v is None else (
            ("true" if v else "false") if d.type == "boolean" else str(v))
    return values


def edit_form(request: Request) -> Response:
    opp = _editable(request)
    return _form(request, opp=opp, values=_values_of(opp, list_fields(ctx_for(request), ENTITY)))


def edit_submit(request: Request) -> Response:
    ctx = ctx_for(request)
    opp = _editable(request)
    fields = list_fields(ctx, ENTITY)
    values = _values(form_data(request), fields)
    values["customer_id"] = str(opp.customer_id)
    data: dict[str, Any] = {
        "name": values["name"], "amount": values["amount"] or None,
        "currency": values["currency"] or None, "probability": values["probability"] or None,
        "expected_close": values["expected_close"] or None,
        "description": values["description"] or None, "custom": _custom(values, fields),
    }
    if values["owner_id"]:
        data["owner_id"] = int_or_none(values["owner_id"])
    try:
        svc.update_opportunity(ctx, opp.id, data, version=int_or_none(values["version"]))
    except ValidationError as exc:
        return _error_form(request, exc, opp, values)
    except PermissionDenied as exc:
        return _error_form(request, ValidationError("invalid owner", {"owner_id": [exc.message]}),
                           opp, values)
    except Conflict:
        current = svc.get_opportunity(ctx, opp.id)
        values["version"] = str(current.version)  # saving again now overwrites, knowingly
        return _form(request, opp=current, values=values, status_code=409, stale=True)
    return RedirectResponse(f"/pipeline/opportunities/{opp.id}?done=saved", 303)
