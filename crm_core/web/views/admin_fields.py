"""``/admin/fields``: custom fields per entity (customers, contacts and plugin entities that take
them) — list, add, edit; deactivating hides a field without losing its values."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from crm_core.errors import Conflict, NotFound, ValidationError
from crm_core.models import CustomFieldDefinition
from crm_core.models.system import FIELD_TYPES
from crm_core.services import custom_fields as field_svc
from crm_core.web.auth import ctx_for, kernel_of
from crm_core.web.i18n import N_
from crm_core.web.routing import route
from crm_core.web.views.admin_forms import GENERAL, Form, locale_of, page, pick

PERMISSION = "custom_fields.manage"
TYPE_NAMES = {
    "text": N_("Text"), "number": N_("Whole number"), "decimal": N_("Decimal number"),
    "date": N_("Date"), "choice": N_("Single choice"), "multi_choice": N_("Multiple choice"),
    "boolean": N_("Yes / no"),
}
NOTICES = {"created": N_("The field was added."), "saved": N_("Saved.")}
CONFLICT = N_("Someone else changed this in the meantime. Reload and try again.")


def entities(request: Request) -> list[tuple[str, str]]:
    """(name, label) of the entities of enabled modules that take custom fields."""
    kernel = kernel_of(request)
    locale = locale_of(request)
    return [(name, pick(locale, decl.label or name, decl.label_en))
            for name, (decl, plugin) in kernel.entities.items()
            if decl.custom_fields and kernel.is_active(plugin)]


def _entity(request: Request, name: str) -> str:
    known = dict(entities(request))
    if name not in known:
        raise NotFound(f"{name!r} takes no custom fields")
    return name


def _values(form: Form, creating: bool) -> dict[str, Any]:
    """The service's input from the form: only what the chosen type uses."""
    ftype = form.text("type")
    ranged = ftype in ("number", "decimal", "date")
    data: dict[str, Any] = {
        "label": form.text("label"), "label_en": form.text("label_en"),
        "required": form.checked("required"), "help_text": form.text("help_text"),
        "options": [o.strip() for o in form.get("options").splitlines() if o.strip()]
        if ftype in ("choice", "multi_choice") else [],
        "regex": (form.text("regex") or None) if ftype == "text" else None,
        "min_value": (form.text("min_value") or None) if ranged else None,
        "max_value": (form.text("max_value") or None) if ranged else None,
        "position": form.int_or_error("position", 0),
    }
    if creating:
        data.update(entity=form.text("entity"), key=form.text("key"), type=ftype)
    else:
        data["active"] = form.checked("active")
    return data


def fields(request: Request) -> Response:
    entity = request.query_params.get("entity") or "customer"
    return _list_page(request, _entity(request, entity), Form({"entity": entity, "type": "text",
                                                                "position": "0"}))


def _list_page(request: Request, entity: str, form: Form) -> Response:
    rows = field_svc.list_fields(ctx_for(request), entity, active_only=False)
    return page(request, "admin/fields.html", entity=entity, entities=entities(request), fields=rows,
                type_options=[(t, TYPE_NAMES.get(t, t)) for t in FIELD_TYPES], type_names=TYPE_NAMES,
                form=form,
                notice=NOTICES.get(request.query_params.get("done", "")))


def create(request: Request) -> Response:
    form = Form.posted(request)
    entity = _entity(request, form.text("entity"))
    data = _values(form, creating=True)
    if form.ok:
        try:
            field_svc.create_field(ctx_for(request), data)
        except ValidationError as exc:
            form.take(exc, {"entity": GENERAL})
    if not form.ok:
        return _list_page(request, entity, form)
    return RedirectResponse(f"/admin/fields?entity={entity}&done=created", 303)


def _field(request: Request) -> CustomFieldDefinition:
    return field_svc.get_field(ctx_for(request), int(request.path_params["field_id"]))


def _edit_page(request: Request, row: CustomFieldDefinition, form: Form) -> Response:
    return page(request, "admin/field.html", field=row, type_names=TYPE_NAMES, form=form,
                entity_label=dict(entities(request)).get(row.entity, row.entity),
                notice=NOTICES.get(request.query_params.get("done", "")))


def detail(request: Request) -> Response:
    row = _field(request)
    form = Form({
        "label": row.label, "label_en": row.label_en, "required": "1" if row.required else "",
        "options": "\n".join(row.options), "regex": row.regex or "", "min_value": row.min_value or "",
        "max_value": row.max_value or "", "help_text": row.help_text, "position": str(row.position),
        "active": "1" if row.active else "", "type": row.type, "version": str(row.version)})
    return _edit_page(request, row, form)


def update(request: Request) -> Response:
    row = _field(request)
    form = Form.posted(request)
    form.values["type"] = row.type  # the type of a field never changes
    data = _values(form, creating=False)
    version = form.int_or_error("version")
    if form.ok:
        try:
            assert row.id is not None
            field_svc.update_field(ctx_for(request), row.id, data, version=version)
        except ValidationError as exc:
            form.take(exc)
        except Conflict:
            form.error(GENERAL, CONFLICT)
    if not form.ok:
        return _edit_page(request, row, form)
    return RedirectResponse(f"/admin/fields/{row.id}?done=saved", 303)


def routes() -> list[BaseRoute]:
    return [
        route("/admin/fields", fields, permission=PERMISSION, name="admin_fields"),
        route("/admin/fields", create, permission=PERMISSION, methods=("POST",), name="admin_field_create"),
        route("/admin/fields/{field_id:int}", detail, permission=PERMISSION, name="admin_field"),
        route("/admin/fields/{field_id:int}", update, permission=PERMISSION, methods=("POST",),
              name="admin_field_update"),
    ]
