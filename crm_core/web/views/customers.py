"""The customer list: search, filters, sort, saved filters, keyset paging, bulk reassignment.

Routes of the whole customer centre are gathered in :func:`routes` (the 360° page and forms
live in ``customers_detail`` and ``customers_forms``, the export in ``customers_export``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from crm_core.errors import NotFound, PermissionDenied, ValidationError
from crm_core.schemas import CustomerRead
from crm_core.services import saved_filters as filters_svc
from crm_core.services.base import Page
from crm_core.services.customers import assign_owner, count_customers, list_customers
from crm_core.web.auth import ctx_for, form_data
from crm_core.web.i18n import N_
from crm_core.web.routing import route
from crm_core.web.templating import render
from crm_core.web.views import customers_detail, customers_export, customers_forms
from crm_core.web.views.account import safe_next
from crm_core.web.views.customers_common import LABELS, FormErrors, Msg, ints, text
from crm_core.web.views.customers_data import (
    people_in_scope,
    primary_contacts,
    user_names,
)
from crm_core.web.views.customers_filters import (
    FILTER_KEYS,
    LIMITS,
    PAGE,
    SORTS,
    filter_fields,
    list_url,
    read_filters,
)

HISTORY_DEPTH = 20  # previous-page cursors kept in the URL; past that, "first page" remains
_TOKEN = re.compile(r"^(\.|[A-Za-z0-9_-]{1,300})$")  # a cursor, or "." for the first page
FIRST = "."


@dataclass
class Paging:
    next_url: str | None = None
    prev_url: str | None = None
    first_url: str | None = None


def _history(source: Mapping[str, Any]) -> tuple[str | None, list[str]]:
    cursor = text(source, "cursor", 400) or None
    if cursor and not _TOKEN.fullmatch(cursor):
        cursor = None
    hist = [t for t in text(source, "hist", 8000).split(",") if _TOKEN.fullmatch(t)]
    return cursor, hist[-HISTORY_DEPTH:]


def paging(params: list[tuple[str, str]], cursor: str | None, hist: list[str],
           page: Page[CustomerRead]) -> Paging:
    p = Paging()
    if page.next_cursor:
        stack = [*hist, cursor or FIRST][-HISTORY_DEPTH:]
        p.next_url = list_url([*params, ("cursor", page.next_cursor), ("hist", ",".join(stack))])
    if cursor:
        p.first_url = list_url(params)
        if hist:
            prev, rest = hist[-1], hist[:-1]
            extra = [] if prev == FIRST else [("cursor", prev)]
            extra += [("hist", ",".join(rest))] if rest else []
            p.prev_url = list_url([*params, *extra])
    return p


# Messages after a redirect (``done`` / ``bulk_error`` parameters): codes, never text.
BULK_ERRORS = {
    "none": N_("Select at least one customer."),
    "owner": N_("Choose a new owner from the list."),
    "denied": N_("You may not make this user the owner of customers."),
    "missing": N_("Some of the selected customers are not yours to reassign; nothing was changed."),
}
_MESSAGE_PARAMS = ("done", "bulk_error", "n", "to", "code")


def _notice(request: Request, source: Mapping[str, Any]) -> tuple[Msg | None, Msg | None]:
    """(success message, error message) named by the query string of a redirect."""
    done, error = text(source, "done", 40), text(source, "bulk_error", 40)
    ok: Msg | None = None
    if done == "assigned":
        n = text(source, "n", 8)
        to = text(source, "to", 12)
        names = user_names(ctx_for(request), ints([to]))
        who = names.get(int(to), "?") if to.isdigit() and len(to) < 12 else "?"
        ok = Msg("", N_("%(n)s customer(s) now belong to %(owner)s."),
                 {"n": n if n.isdigit() else "0", "owner": who})
    elif done == "deleted":
        ok = Msg("", N_("Customer %(code)s was deleted."), {"code": text(source, "code", 20)})
    elif done == "saved":
        ok = Msg("", N_("The filter was saved."))
    elif done == "filter_deleted":
        ok = Msg("", N_("The saved filter was deleted."))
    bad = Msg("", BULK_ERRORS[error]) if error in BULK_ERRORS else None
    return ok, bad


def _list_page(request: Request, source: Mapping[str, Any], status_code: int = 200,
               **extra: Any) -> Response:
    ctx = ctx_for(request)
    fields = filter_fields(ctx)
    filters = read_filters(source, fields)
    cursor, hist = _history(source)
    errors = FormErrors()
    page: Page[CustomerRead] = Page([], None, filters.limit)
    total, exact = 0, True
    try:
        page = list_customers(ctx, {**filters.query, "cursor": cursor, "limit": filters.limit})
        total, exact = count_customers(ctx, filters.query)
    except ValidationError as exc:
        inputs = [*FILTER_KEYS, "cursor", *(f"cf_{d.key}" for d in fields)]
        errors = FormErrors(exc.errors, inputs,
                            {f"custom.{d.key}": f"cf_{d.key}" for d in fields})
    contacts = primary_contacts(ctx, [c.id for c in page.items])
    owners = user_names(ctx, [c.owner_id for c in page.items])
    saved = filters_svc.list_filters(ctx, PAGE)
    current_query = urlencode(filters.params)
    ok, bad = _notice(request, source)
    return render(
        request, "customers/list.html", status_code=status_code,
        page=page, total=total, exact=exact, filters=filters, errors=errors, fields=fields,
        contacts=contacts, owners=owners, labels=LABELS, sorts=SORTS, limits=LIMITS,
        paging=paging(filters.params, cursor, hist, page),
        saved=saved, current_query=current_query,
        owner_choices=people_in_scope(ctx, "customers.read"),
        assignable=people_in_scope(ctx, "customers.assign"),
        here=_here(request) if request.method == "GET" else list_url(filters.params),
        notice=ok, alert=bad, **extra,
    )


def _here(request: Request) -> str:
    """This list page's URL without the one-off message parameters."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in _MESSAGE_PARAMS]
    return list_url(params)


def customer_list(request: Request) -> Response:
    return _list_page(request, request.query_params)


def _back(value: str) -> tuple[str, list[tuple[str, str]]]:
    """A list URL sent back by a form: (path, its parameters less the message ones)."""
    target = safe_next(value, default="/customers")
    parts = urlsplit(target)
    if parts.path != "/customers":
        return "/customers", []
    params = [(k, v) for k, v in parse_qsl(parts.query) if k not in _MESSAGE_PARAMS]
    return "/customers", params


def _redirect(path: str, params: list[tuple[str, str]]) -> RedirectResponse:
    query = urlencode(params)
    return RedirectResponse(f"{path}?{query}" if query else path, 303)


def bulk_assign(request: Request) -> Response:
    """``POST /customers/assign``: the checked customers get a new owner."""
    form = form_data(request)
    path, params = _back(text(form, "back", 4000))
    ids = ints(v for v in form.getlist("ids") if isinstance(v, str))
    owner = text(form, "owner_id", 12)
    try:
        if not owner.isdigit():
            raise ValidationError("invalid owner", {"owner_id": ["choose a user"]})
        n = assign_owner(ctx_for(request), ids, int(owner))
    except ValidationError as exc:
        code = "none" if "customer_ids" in exc.errors else "owner"
        return _redirect(path, [*params, ("bulk_error", code)])
    except PermissionDenied:
        return _redirect(path, [*params, ("bulk_error", "denied")])
    except NotFound:
        return _redirect(path, [*params, ("bulk_error", "missing")])
    return _redirect(path, [*params, ("done", "assigned"), ("n", str(n)), ("to", owner)])


def save_filter(request: Request) -> Response:
    """``POST /customers/filters``: save the current filters under a name."""
    form = form_data(request)
    ctx = ctx_for(request)
    filters = read_filters(form, filter_fields(ctx))
    name = text(form, "filter_name", 200)
    try:
        filters_svc.save_filter(ctx, PAGE, name, filters.params)
    except ValidationError as exc:
        return _list_page(request, form, status_code=422, filter_name=name,
                          filter_errors=FormErrors(exc.errors, ["name"]))
    return _redirect("/customers", [*filters.params, ("done", "saved")])


def delete_filter(request: Request) -> Response:
    filters_svc.delete_filter(ctx_for(request), request.path_params["fid"])
    path, params = _back(text(form_data(request), "back", 4000))
    return _redirect(path, [*params, ("done", "filter_deleted")])


def routes() -> list[BaseRoute]:
    return [
        route("/customers", customer_list, permission="customers.read", name="customers"),
        route("/customers/assign", bulk_assign, permission="customers.assign", methods=("POST",),
              name="customers_assign"),
        route("/customers/filters", save_filter, permission="customers.read", methods=("POST",),
              name="customers_filter_save"),
        route("/customers/filters/{fid:int}/delete", delete_filter, permission="customers.read",
              methods=("POST",), name="customers_filter_delete"),
        *customers_export.routes(),
        *customers_forms.routes(),
        *customers_detail.routes(),
    ]
