"""New and edit customer forms: every error next to its field in the user's language, what was
typed kept, and a stale edit (someone saved in between) told apart from invalid input."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from crm_core.context import Ctx
from crm_core.errors import Conflict, PermissionDenied, ValidationError
from crm_core.models import CustomFieldDefinition
from crm_core.schemas import REGIONS, CustomerRead
from crm_core.services.custom_fields import list_fields
from crm_core.services.customers import create_customer, get_customer, update_customer
from crm_core.web.auth import ctx_for, form_data
from crm_core.web.routing import route
from crm_core.web.templating import render
from crm_core.web.views.customers_common import LABELS, FormErrors, customer_rights, text, texts
from crm_core.web.views.customers_detail import custom_values

BASE_INPUTS = ("name", "type", "status", "industry", "source", "region", "first_contact_date",
               "id_number", "address", "website", "remark")
OPTIONAL = ("industry", "source", "region", "first_contact_date", "address", "website", "remark")
CONTACT_INPUTS = ("contact_name", "contact_title", "contact_phone", "contact_email")
LIMITS = {"remark": 2000, "address": 300, "website": 200, "name": 200}


def _custom_name(d: CustomFieldDefinition) -> str:
    return f"cf_{d.key}"


def read_values(form: FormData, fields: list[CustomFieldDefinition]) -> dict[str, Any]:
    """What the user typed, as the form shows it again (multi-choices as lists)."""
    values: dict[str, Any] = {k: text(form, k, LIMITS.get(k, 200) + 50)
                              for k in (*BASE_INPUTS, *CONTACT_INPUTS, "version")}
    for d in fields:
        name = _custom_name(d)
        values[name] = texts(form, name) if d.type == "multi_choice" else text(form, name, 2000)
    return values


def _custom_data(values: dict[str, Any], fields: list[CustomFieldDefinition]) -> dict[str, Any]:
    custom: dict[str, Any] = {}
    for d in fields:
        raw = values.get(_custom_name(d))
        if d.type == "boolean":
            custom[d.key] = {"true": True, "false": False}.get(raw or "")
        else:
            custom[d.key] = raw or None
    return custom


def _error_names(fields: list[CustomFieldDefinition]) -> tuple[list[str], dict[str, str]]:
    inputs = [*BASE_INPUTS, *CONTACT_INPUTS, *(_custom_name(d) for d in fields)]
    rename = {f"custom.{d.key}": _custom_name(d) for d in fields}
    rename.update({f"contacts.0.{k.removeprefix('contact_')}": k for k in CONTACT_INPUTS})
    return inputs, rename


def _form(request: Request, *, customer: CustomerRead | None, values: dict[str, Any],
          fields: list[CustomFieldDefinition], errors: FormErrors | None = None,
          saved_now: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    ctx = ctx_for(request)
    return render(
        request, "customers/form.html", status_code=status_code, customer=customer,
        values=values, errors=errors or FormErrors(), fields=fields, labels=LABELS,
        regions=REGIONS, saved_now=saved_now,
        show_id_number=customer is None or ctx.actor.can("contacts.see_id_number"),
        locale=str(request.app.state.web.locale_for(request)),
    )


# --- new ----------------------------------------------------------------------------------
def new_form(request: Request) -> Response:
    fields = list_fields(ctx_for(request), "customer")
    return _form(request, customer=None, fields=fields,
                 values={"type": "enterprise", "status": "potential"})


def create_submit(request: Request) -> Response:
    ctx = ctx_for(request)
    fields = list_fields(ctx, "customer")
    values = read_values(form_data(request), fields)
    data: dict[str, Any] = {"name": values["name"], "custom": _custom_data(values, fields)}
    for key in ("type", "status", "id_number"):
        if values[key]:
            data[key] = values[key]
    data.update({k: values[k] or None for k in OPTIONAL})
    if any(values[k] for k in CONTACT_INPUTS):
        data["contacts"] = [{k.removeprefix("contact_"): values[k] or None for k in CONTACT_INPUTS}
                            | {"name": values["contact_name"]}]
    try:
        customer = create_customer(ctx, data)
    except ValidationError as exc:
        inputs, rename = _error_names(fields)
        return _form(request, customer=None, values=values, fields=fields,
                     errors=FormErrors(exc.errors, inputs, rename), status_code=422)
    return RedirectResponse(f"/customers/{customer.id}?done=created", 303)


# --- edit ---------------------------------------------------------------------------------
def _values_of(c: CustomerRead, fields: list[CustomFieldDefinition], with_id_number: bool) -> dict[str, Any]:
    values: dict[str, Any] = {k: getattr(c, k) for k in BASE_INPUTS if k != "id_number"}
    values = {k: "" if v is None else str(v) for k, v in values.items()}
    values["id_number"] = (c.id_number or "") if with_id_number else ""
    values["version"] = str(c.version)
    for d in fields:
        v = c.custom.get(d.key)
        if d.type == "multi_choice":
            values[_custom_name(d)] = list(v) if isinstance(v, list) else []
        elif d.type == "boolean":
            values[_custom_name(d)] = "" if v is None else ("true" if v else "false")
        else:
            values[_custom_name(d)] = "" if v is None else str(v)
    return values


def _editable(ctx: Ctx, customer_id: int) -> CustomerRead:
    customer = get_customer(ctx, customer_id)
    if "customers.update" not in customer_rights(ctx, customer_id, ("customers.update",)):
        raise PermissionDenied(f"{ctx.actor.login} may not customers.update customer {customer_id}")
    return customer


def edit_form(request: Request) -> Response:
    ctx = ctx_for(request)
    customer = _editable(ctx, request.path_params["id"])
    fields = list_fields(ctx, "customer")
    return _form(request, customer=customer, fields=fields,
                 values=_values_of(customer, fields, ctx.actor.can("contacts.see_id_number")))


def edit_submit(request: Request) -> Response:
    """``POST /customers/{id}/edit`` with the version the form was loaded at."""
    ctx = ctx_for(request)
    customer = _editable(ctx, request.path_params["id"])
    fields = list_fields(ctx, "customer")
    values = read_values(form_data(request), fields)
    see_id = ctx.actor.can("contacts.see_id_number")
    data: dict[str, Any] = {k: values[k] or None for k in ("name", "type", "status", *OPTIONAL)}
    data["custom"] = _custom_data(values, fields)
    # an ID number the user can't see is not on the form; one they left as it was is not sent
    if see_id and values["id_number"].upper() != (customer.id_number or ""):
        data["id_number"] = values["id_number"] or None
    version = int(values["version"]) if values["version"].isdigit() else None
    try:
        update_customer(ctx, customer.id, data, version=version)
    except ValidationError as exc:
        inputs, rename = _error_names(fields)
        return _form(request, customer=customer, values=values, fields=fields,
                     errors=FormErrors(exc.errors, inputs, rename), status_code=422)
    except Conflict:
        current = get_customer(ctx, customer.id)
        now = _values_of(current, fields, see_id)
        locale = str(request.app.state.web.locale_for(request))
        shown = {cv.key: cv for cv in custom_values(fields, current.custom, locale)}
        saved_now = {k: (shown[k[3:]] if k.startswith("cf_") else v) for k, v in now.items()
                     if k != "version" and v != values.get(k)}
        values["version"] = str(current.version)  # saving again now overwrites, knowingly
        return _form(request, customer=current, values=values, fields=fields,
                     saved_now=saved_now, status_code=409)
    return RedirectResponse(f"/customers/{customer.id}?done=saved", 303)


def routes() -> list[BaseRoute]:
    return [
        route("/customers/new", new_form, permission="customers.create", name="customer_new"),
        route("/customers/new", create_submit, permission="customers.create", methods=("POST",),
              name="customer_create"),
        route("/customers/{id:int}/edit", edit_form, permission="customers.update",
              name="customer_edit"),
        route("/customers/{id:int}/edit", edit_submit, permission="customers.update",
              methods=("POST",), name="customer_save"),
    ]
