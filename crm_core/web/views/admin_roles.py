"""``/admin/roles``: roles and their grants — per action a checkbox and, for record actions, the
scope (own / team / all). Every change needs the admin's password again; built-in roles can be
edited but not deleted."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from crm_core.declarations import SCOPES
from crm_core.errors import NotFound, ValidationError
from crm_core.models import Role
from crm_core.services import roles as role_svc
from crm_core.services import users as user_svc
from crm_core.web.auth import ctx_for, kernel_of
from crm_core.web.i18n import N_
from crm_core.web.routing import route
from crm_core.web.views.admin_forms import (
    GENERAL,
    Form,
    action_label,
    locale_of,
    page,
    pick,
    plugin_label,
    reauthorize,
)

PERMISSION = "roles.manage"
NOTICES = {
    "created": N_("The role was created. Choose what it may do."),
    "saved": N_("Saved. The change applies from each user's next request."),
    "deleted": N_("The role was deleted."),
}


def _holders(request: Request) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for user, roles, _teams in user_svc.list_users(ctx_for(request)):
        for r in roles:
            out.setdefault(r, []).append(user.login)
    return out


def roles(request: Request) -> Response:
    return _list_page(request, Form())


def _list_page(request: Request, form: Form) -> Response:
    ctx = ctx_for(request)
    rows = role_svc.list_roles(ctx)
    locale = locale_of(request)
    labelled = [(r, pick(locale, r.label, r.label_en)) for r in rows]
    return page(request, "admin/roles.html",
                roles=[(r, label, len(role_svc.role_grants(ctx, r.name))) for r, label in labelled],
                roles_options=[(r.name, label) for r, label in labelled], holders=_holders(request),
                form=form, notice=NOTICES.get(request.query_params.get("done", "")))


def create(request: Request) -> Response:
    ctx = ctx_for(request)
    form = Form.posted(request)
    source = form.text("copy_from")
    grants: dict[str, str | None] = {}
    if source:
        try:
            known = kernel_of(request).actions
            grants = {a: s for a, s in role_svc.role_grants(ctx, source).items() if a in known}
        except NotFound:
            form.error("copy_from", N_("Choose one of the roles."))
    if not form.ok or not reauthorize(request, form, PERMISSION):
        return _list_page(request, form)
    try:
        role = role_svc.create_role(ctx, form.text("name"), form.text("label"), grants,
                                    label_en=form.text("label_en"), description=form.text("description"))
    except ValidationError as exc:
        form.take(exc)
        return _list_page(request, form)
    return RedirectResponse(f"/admin/roles/{role.name}?done=created", 303)


def _role(request: Request) -> Role:
    name = str(request.path_params["name"])
    for r in role_svc.list_roles(ctx_for(request)):
        if r.name == name:
            return r
    raise NotFound(f"no role named {name!r}")


def _matrix(request: Request) -> list[tuple[str, str, bool, list[dict[str, Any]]]]:
    """Every declared action, grouped by module: (plugin, label, module on?, rows)."""
    kernel = kernel_of(request)
    locale = locale_of(request)
    groups: dict[str, list[dict[str, Any]]] = {}
    for name, (decl, plugin) in sorted(kernel.actions.items()):
        groups.setdefault(plugin, []).append({
            "action": name, "label": action_label(request, name, locale), "record": bool(decl.entity),
            "sensitive": decl.sensitive})
    out = [(p, plugin_label(request, p, locale), kernel.is_active(p), rows) for p, rows in groups.items()]
    return sorted(out, key=lambda g: (g[0] != "core", g[0]))


def detail(request: Request) -> Response:
    role = _role(request)
    grants = role_svc.role_grants(ctx_for(request), role.name)
    form = Form({"label": role.label, "label_en": role.label_en, "description": role.description,
                 "grant": sorted(grants), **{f"scope.{a}": s or "" for a, s in grants.items()}})
    return _detail(request, role, form)


def _detail(request: Request, role: Role, form: Form, delete_form: Form | None = None) -> Response:
    return page(request, "admin/role.html", role=role, matrix=_matrix(request), scopes=SCOPES,
                holders=_holders(request).get(role.name, []), form=form,
                delete_form=delete_form or Form(),
                notice=NOTICES.get(request.query_params.get("done", "")))


def save(request: Request) -> Response:
    role = _role(request)
    form = Form.posted(request, "grant")
    actions = kernel_of(request).actions
    grants: dict[str, str | None] = {}
    for name in form.getlist("grant"):
        if name not in actions:
            continue  # a module uninstalled since the page was drawn
        if actions[name][0].entity:
            scope = form.text(f"scope.{name}")
            if scope not in SCOPES:
                form.error(name, N_("Choose a scope: own, team or all."))
            grants[name] = scope
        else:
            grants[name] = None
    if form.ok and reauthorize(request, form, PERMISSION):
        ctx = ctx_for(request)
        try:
            with ctx.uow():  # labels and grants together, or neither
                role_svc.update_role(ctx, role.name, label=form.text("label"), label_en=form.text("label_en"),
                                     description=form.text("description"))
                if role_svc.role_grants(ctx, role.name) != grants:
                    role_svc.set_grants(ctx, role.name, grants)
        except ValidationError as exc:
            form.take(exc)
    if not form.ok:
        return _detail(request, role, form)
    return RedirectResponse(f"/admin/roles/{role.name}?done=saved", 303)


def delete(request: Request) -> Response:
    role = _role(request)
    form = Form.posted(request)
    if reauthorize(request, form, PERMISSION):
        try:
            role_svc.delete_role(ctx_for(request), role.name)
        except ValidationError as exc:
            form.take(exc, {"name": GENERAL})
    if not form.ok:
        grants = role_svc.role_grants(ctx_for(request), role.name)
        edit = Form({"label": role.label, "label_en": role.label_en, "description": role.description,
                     "grant": sorted(grants), **{f"scope.{a}": s or "" for a, s in grants.items()}})
        return _detail(request, role, edit, form)
    return RedirectResponse("/admin/roles?done=deleted", 303)


def routes() -> list[BaseRoute]:
    return [
        route("/admin/roles", roles, permission=PERMISSION, name="admin_roles"),
        route("/admin/roles", create, permission=PERMISSION, methods=("POST",), name="admin_role_create"),
        route("/admin/roles/{name}", detail, permission=PERMISSION, name="admin_role"),
        route("/admin/roles/{name}", save, permission=PERMISSION, methods=("POST",), name="admin_role_save"),
        route("/admin/roles/{name}/delete", delete, permission=PERMISSION, methods=("POST",),
              name="admin_role_delete"),
    ]
