"""Lead pages: list, lead page, create/edit, first contact, reassign, convert, report, CSV."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from crm_core.errors import ValidationError
from crm_core.normalize import national_display
from crm_core.services.custom_fields import list_fields
from crm_core.web import ctx_for, form_data, render
from crm_core.web.views.customers_common import FormErrors, text
from crm_leads import services as svc
from crm_leads.services import convert, csvload, reports
from crm_leads.services.leads import ENTITY
from crm_leads.web.common import L, errors_for, form_errors, lead_form, people

FILTERS = ("q", "status", "source", "region", "industry", "owner", "cursor")


def _id(request: Request) -> int:
    return int(request.path_params["id"])


def lead_list(request: Request) -> Response:
    ctx = ctx_for(request)
    values = {k: request.query_params.get(k, "").strip() for k in FILTERS}
    query = {k: v for k, v in values.items() if v}
    errors = FormErrors()
    try:
        page = svc.list_leads(ctx, query)
    except ValidationError as exc:
        errors = form_errors(exc.errors, FILTERS)
        page = svc.list_leads(ctx, {})
    next_url = None
    if page.next_cursor:
        next_url = "/leads/?" + urlencode({**{k: v for k, v in query.items() if k != "cursor"},
                                          "cursor": page.next_cursor})
    names = dict(people(ctx))
    return render(request, "leads/list.html", page=page, values=values, errors=errors, labels=L,
                  names=names, next_url=next_url, notice=request.query_params.get("notice"))


def lead_detail(request: Request) -> Response:
    ctx = ctx_for(request)
    lead = svc.get_lead(ctx, _id(request))
    names = dict(people(ctx))
    return render(request, "leads/detail.html", lead=lead, labels=L, names=names,
                  phone=national_display(lead.phone) if lead.phone and "*" not in lead.phone else lead.phone,
                  people=list(names.items()), fields=list_fields(ctx, ENTITY),
                  notice=request.query_params.get("notice"), errors=FormErrors())


def _form_page(request: Request, lead: Any, values: dict[str, Any], errors: FormErrors,
               fields: list[Any], status: int = 200) -> Response:
    return render(request, "leads/form.html", lead=lead, values=values, errors=errors, labels=L,
                  fields=fields, status_code=status)


def lead_new(request: Request) -> Response:
    ctx = ctx_for(request)
    fields = list_fields(ctx, ENTITY)
    if request.method == "GET":
        return _form_page(request, None, {}, FormErrors(), fields)
    form = form_data(request)
    try:
        lead = svc.create_lead(ctx, lead_form(form, fields))
    except ValidationError as exc:
        return _form_page(request, None, _values(form), errors_for(exc, fields), fields, 422)
    return RedirectResponse(f"/leads/{lead.id}?notice=created", 303)


def _values(form: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in form:
        vals = form.getlist(k)
        out[k] = vals if len(vals) > 1 else (vals[0] if isinstance(vals[0], str) else "")
    return out


def lead_edit(request: Request) -> Response:
    ctx = ctx_for(request)
    fields = list_fields(ctx, ENTITY)
    lead = svc.get_lead(ctx, _id(request))
    if request.method == "GET":
        values: dict[str, Any] = {k: ("" if v is None else str(v))
                                  for k, v in lead.model_dump().items()}
        for k, v in lead.custom.items():
            values["cf_" + k] = v if isinstance(v, list) else ("" if v is None else str(v))
        return _form_page(request, lead, values, FormErrors(), fields)
    form = form_data(request)
    data = lead_form(form, fields, editing=True)
    if not ctx.actor.can("contacts.see_phone"):
        data.pop("phone", None)
    version = text(form, "version")
    try:
        svc.update_lead(ctx, lead.id, data, version=int(version) if version.isdigit() else None)
    except ValidationError as exc:
        return _form_page(request, lead, _values(form), errors_for(exc, fields), fields, 422)
    return RedirectResponse(f"/leads/{lead.id}?notice=saved", 303)


def lead_contacted(request: Request) -> Response:
    svc.mark_contacted(ctx_for(request), _id(request))
    return RedirectResponse(f"/leads/{_id(request)}?notice=contacted", 303)


def lead_reassign(request: Request) -> Response:
    ctx = ctx_for(request)
    owner = text(form_data(request), "owner_id")
    if not owner.isdigit():
        raise ValidationError("invalid owner", {"owner_id": ["choose an active user"]})
    svc.reassign(ctx, _id(request), int(owner))
    return RedirectResponse(f"/leads/{_id(request)}?notice=reassigned", 303)


def lead_convert(request: Request) -> Response:
    ctx = ctx_for(request)
    lead = svc.get_lead(ctx, _id(request))
    matches = convert.conversion_matches(ctx, lead.id)
    extra = convert.conversion_fields(ctx, lead)
    errors = FormErrors()
    values: dict[str, Any] = {}
    if request.method == "POST":
        form = form_data(request)
        values = _values(form)
        target = text(form, "customer_id")
        options = {f.key: text(form, f.key, 2000) for f in extra}
        data: dict[str, Any] = {"options": options}
        if target.isdigit():
            data["customer_id"] = int(target)
        elif text(form, "customer_name"):
            data["customer_name"] = text(form, "customer_name", 200)
        try:
            result = convert.convert_lead(ctx, lead.id, data)
        except ValidationError as exc:
            errors = form_errors(exc.errors, ["customer_name", *(f.key for f in extra)])
        else:
            return RedirectResponse(f"/customers/{result.customer_id}", 303)
    return render(request, "leads/convert.html", lead=lead, matches=matches, extra=extra,
                  errors=errors, values=values, labels=L,
                  status_code=422 if errors else 200)


def report(request: Request) -> Response:
    rows = reports.by_source(ctx_for(request))
    return render(request, "leads/report.html", rows=rows, labels=L)


def upload(request: Request) -> Response:
    ctx = ctx_for(request)
    if request.method == "GET":
        return render(request, "leads/upload.html", result=None, rows=[], problem=None)
    upload_file = form_data(request).get("file")
    raw = b""
    if upload_file is not None and not isinstance(upload_file, str):
        raw = upload_file.file.read(5_000_000)
    try:
        result = csvload.upload_csv(ctx, raw)
    except csvload.CsvInvalid as exc:
        return render(request, "leads/upload.html", result=None, rows=exc.rows, problem=exc.message,
                      status_code=422)
    return render(request, "leads/upload.html", result=result, rows=[], problem=None)
