"""The customer 360° page: profile with custom fields, contacts, the follow-up timeline with its
quick entry, and the panels plugins contribute (``customer_panels``); contacts' forms and the
customer's deletion."""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from crm_core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from crm_core.models import CustomFieldDefinition
from crm_core.schemas import ContactRead, CustomerRead, FollowUpRead
from crm_core.services import contacts as contacts_svc
from crm_core.services import followups as followups_svc
from crm_core.services.base import Page
from crm_core.services.custom_fields import list_fields
from crm_core.services.customers import delete_customer, get_customer, local_today
from crm_core.web.auth import ctx_for, form_data
from crm_core.web.i18n import N_
from crm_core.web.routing import route
from crm_core.web.templating import render, slot
from crm_core.web.views.customers_common import (
    LABELS,
    FormErrors,
    Msg,
    customer_rights,
    reauth_ready,
    reauth_redirect,
    text,
)
from crm_core.web.views.customers_data import user_names

TIMELINE_PAGE = 20
FOLLOWUP_INPUTS = ("method", "content", "feedback", "next_step", "next_step_due", "contact_id",
                   "occurred_at")
CONTACT_INPUTS = ("name", "title", "phone", "email", "wechat", "remark", "is_primary")
NOTICES = {
    "followup": N_("The follow-up was saved."),
    "contact_added": N_("The contact was added."),
    "contact_saved": N_("The contact was saved."),
    "contact_removed": N_("The contact was removed."),
    "primary": N_("The primary contact was changed."),
    "created": N_("The customer was created."),
    "saved": N_("Your changes were saved."),
}


class CustomValue:
    """A custom field with its value as the page shows it."""

    def __init__(self, d: CustomFieldDefinition, value: Any, locale: str) -> None:
        self.key = d.key
        self.type = d.type
        self.label = d.label if locale == "zh_CN" else (d.label_en or d.label)
        self.help = d.help_text
        self.value = value
        self.date: date | None = None
        if d.type == "date" and isinstance(value, str):
            try:
                self.date = date.fromisoformat(value)
            except ValueError:
                self.date = None

    @property
    def empty(self) -> bool:
        return self.value is None or self.value in ("", [])


def custom_values(fields: list[CustomFieldDefinition], custom: dict[str, Any],
                  locale: str) -> list[CustomValue]:
    return [CustomValue(d, custom.get(d.key), locale) for d in fields]


def _locale(request: Request) -> str:
    return str(request.app.state.web.locale_for(request))


def detail_page(request: Request, customer_id: int, status_code: int = 200, **forms: Any) -> Response:
    """Render the 360° page; ``forms`` carries a form's submitted values and errors back."""
    ctx = ctx_for(request)
    actor = ctx.actor
    customer = get_customer(ctx, customer_id)
    rights = customer_rights(ctx, customer_id)
    contacts: list[ContactRead] = (contacts_svc.list_contacts(ctx, customer_id)
                                   if actor.can("contacts.read") else [])
    timeline: Page[FollowUpRead] = Page([], None, TIMELINE_PAGE)
    cursor = text(request.query_params, "more", 400) or None
    if actor.can("followups.read"):
        try:
            timeline = followups_svc.timeline(ctx, customer_id, cursor=cursor, limit=TIMELINE_PAGE)
        except ValidationError:  # a stale or tampered "more" link: the newest instead
            cursor = None
            timeline = followups_svc.timeline(ctx, customer_id, limit=TIMELINE_PAGE)
    people = user_names(ctx, [customer.owner_id, customer.created_by_id,
                              *(f.user_id for f in timeline.items)])
    locale = _locale(request)
    done = text(request.query_params, "done", 40)
    return render(
        request, "customers/detail.html", status_code=status_code,
        customer=customer, rights=rights, contacts=contacts,
        contact_names={c.id: c.name for c in contacts}, timeline=timeline, more_from=cursor,
        people=people, labels=LABELS, locale=locale,
        custom=custom_values(list_fields(ctx, "customer"), customer.custom, locale),
        panels=slot(request, "customer_panels", customer=customer),
        notice=Msg("", NOTICES[done]) if done in NOTICES else None,
        followup=forms.get("followup", {"method": "phone"}),
        followup_errors=forms.get("followup_errors", FormErrors()),
        contact=forms.get("contact", {}), contact_errors=forms.get("contact_errors", FormErrors()),
        today=local_today(actor.timezone),
    )


def customer_page(request: Request) -> Response:
    return detail_page(request, request.path_params["id"])


def _to(customer_id: int, done: str, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/customers/{customer_id}?done={done}{anchor}", 303)


# --- follow-ups ---------------------------------------------------------------------------
def add_followup(request: Request) -> Response:
    """``POST /customers/{id}/followups``: the quick entry of the 360° page."""
    customer_id = request.path_params["id"]
    form = form_data(request)
    values = {k: text(form, k, 5000) for k in FOLLOWUP_INPUTS}
    data: dict[str, Any] = {"customer_id": customer_id, "method": values["method"] or "phone",
                            "content": values["content"]}
    for key in ("feedback", "next_step", "next_step_due", "occurred_at"):
        if values[key]:
            data[key] = values[key]
    if values["contact_id"].isdigit():
        data["contact_id"] = int(values["contact_id"])
    try:
        followups_svc.create_followup(ctx_for(request), data)
    except ValidationError as exc:
        return detail_page(request, customer_id, status_code=422, followup=values,
                           followup_errors=FormErrors(exc.errors, FOLLOWUP_INPUTS))
    return _to(customer_id, "followup", "#followups")


# --- contacts -----------------------------------------------------------------------------
def _contact_values(request: Request) -> dict[str, str]:
    form = form_data(request)
    return {k: text(form, k, 2000) for k in CONTACT_INPUTS}


def _none_if_empty(values: dict[str, str], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: values[k] or None for k in keys}


def add_contact(request: Request) -> Response:
    """``POST /customers/{id}/contacts``."""
    customer_id = request.path_params["id"]
    values = _contact_values(request)
    data = {"customer_id": customer_id, "name": values["name"],
            "is_primary": values["is_primary"] == "1",
            **_none_if_empty(values, ("title", "phone", "email", "wechat", "remark"))}
    try:
        contacts_svc.create_contact(ctx_for(request), data)
    except ValidationError as exc:
        return detail_page(request, customer_id, status_code=422, contact=values,
                           contact_errors=FormErrors(exc.errors, CONTACT_INPUTS))
    return _to(customer_id, "contact_added", "#contacts")


def _contact_of(request: Request) -> ContactRead:
    """The contact of the path, which must belong to the customer of the path."""
    contact = contacts_svc.get_contact(ctx_for(request), request.path_params["cid"])
    if contact.customer_id != request.path_params["id"]:
        raise NotFound(f"contact {contact.id} not found")
    return contact


def _contact_form(request: Request, contact: ContactRead, values: dict[str, str] | None = None,
                  errors: FormErrors | None = None, conflict: bool = False,
                  status_code: int = 200) -> Response:
    customer = get_customer(ctx_for(request), contact.customer_id)
    if values is None:
        values = {"name": contact.name, "title": contact.title or "",
                  "phone": "" if contact.phone_masked else (contact.phone or ""),
                  "email": contact.email or "", "wechat": contact.wechat or "",
                  "remark": contact.remark or "", "version": str(contact.version)}
    return render(request, "customers/contact_form.html", status_code=status_code,
                  customer=customer, contact=contact, values=values, errors=errors or FormErrors(),
                  conflict=conflict)


def edit_contact_form(request: Request) -> Response:
    return _contact_form(request, _contact_of(request))


def edit_contact(request: Request) -> Response:
    """``POST /customers/{id}/contacts/{cid}/edit`` with the version it was loaded at."""
    contact = _contact_of(request)
    values = _contact_values(request)
    version_raw = text(form_data(request), "version", 12)
    values["version"] = version_raw
    data = {"name": values["name"], **_none_if_empty(values, ("title", "email", "wechat", "remark"))}
    if values["is_primary"] == "1":
        data["is_primary"] = True
    # An untouched phone is not sent, so a save does not log a phone change; a masked phone
    # (the user may not see it) is kept unless a new one is typed.
    shown = "" if contact.phone_masked else (contact.phone or "")
    if values["phone"] != shown and (values["phone"] or not contact.phone_masked):
        data["phone"] = values["phone"] or None
    ctx = ctx_for(request)
    try:
        contacts_svc.update_contact(ctx, contact.id, data,
                                    version=int(version_raw) if version_raw.isdigit() else None)
    except ValidationError as exc:
        return _contact_form(request, contact, values, FormErrors(exc.errors, CONTACT_INPUTS),
                             status_code=422)
    except Conflict:
        current = contacts_svc.get_contact(ctx, contact.id)
        values["version"] = str(current.version)
        return _contact_form(request, current, values, conflict=True, status_code=409)
    return _to(contact.customer_id, "contact_saved", "#contacts")


def make_primary(request: Request) -> Response:
    contact = _contact_of(request)
    contacts_svc.update_contact(ctx_for(request), contact.id, {"is_primary": True})
    return _to(contact.customer_id, "primary", "#contacts")


def remove_contact(request: Request) -> Response:
    contact = _contact_of(request)
    contacts_svc.delete_contact(ctx_for(request), contact.id)
    return _to(contact.customer_id, "contact_removed", "#contacts")


# --- deleting the customer ----------------------------------------------------------------
DELETE_ACTION = "customers.delete"


def _deletable(request: Request) -> CustomerRead:
    ctx = ctx_for(request)
    customer = get_customer(ctx, request.path_params["id"])
    if DELETE_ACTION not in customer_rights(ctx, customer.id, (DELETE_ACTION,)):
        raise PermissionDenied(f"{ctx.actor.login} may not {DELETE_ACTION} customer {customer.id}")
    return customer


def delete_form(request: Request) -> Response:
    """``GET /customers/{id}/delete``: the password first, then the confirmation."""
    customer = _deletable(request)
    if not reauth_ready(request, DELETE_ACTION):
        return reauth_redirect(DELETE_ACTION, f"/customers/{customer.id}/delete")
    return render(request, "customers/delete.html", customer=customer, labels=LABELS, conflict=False)


def delete_submit(request: Request) -> Response:
    """``POST /customers/{id}/delete`` (re-authenticated) with the version confirmed."""
    customer_id = request.path_params["id"]
    version = text(form_data(request), "version", 12)
    ctx = ctx_for(request)
    try:
        customer = get_customer(ctx, customer_id)
        delete_customer(ctx, customer_id, version=int(version) if version.isdigit() else None)
    except Conflict:
        current = get_customer(ctx, customer_id)
        return render(request, "customers/delete.html", status_code=409, customer=current,
                      labels=LABELS, conflict=True)
    return RedirectResponse(f"/customers?done=deleted&code={customer.code}", 303)


def routes() -> list[BaseRoute]:
    base = "/customers/{id:int}"
    contact = base + "/contacts/{cid:int}"
    return [
        route(base, customer_page, permission="customers.read", name="customer"),
        route(base + "/followups", add_followup, permission="followups.create", methods=("POST",),
              name="customer_followup_add"),
        route(base + "/contacts", add_contact, permission="contacts.create", methods=("POST",),
              name="customer_contact_add"),
        route(contact + "/edit", edit_contact_form, permission="contacts.update",
              name="customer_contact_edit"),
        route(contact + "/edit", edit_contact, permission="contacts.update", methods=("POST",),
              name="customer_contact_save"),
        route(contact + "/primary", make_primary, permission="contacts.update", methods=("POST",),
              name="customer_contact_primary"),
        route(contact + "/delete", remove_contact, permission="contacts.delete", methods=("POST",),
              name="customer_contact_delete"),
        route(base + "/delete", delete_form, permission=DELETE_ACTION, name="customer_delete"),
        route(base + "/delete", delete_submit, permission=DELETE_ACTION, methods=("POST",),
              reauth=True, name="customer_delete_submit"),
    ]
