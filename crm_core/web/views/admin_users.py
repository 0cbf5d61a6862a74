"""``/admin/users``: list, create, edit, enable/disable, reset passwords, change roles, and each
user's effective access (every permission: allowed?, scope, why)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from crm_core.errors import Conflict, ValidationError
from crm_core.passwords import check_strength
from crm_core.services import roles as role_svc
from crm_core.services import users as user_svc
from crm_core.services.base import parse
from crm_core.web.auth import ctx_for, current_actor, form_data, kernel_of
from crm_core.web.i18n import N_
from crm_core.web.routing import route
from crm_core.web.views.admin_forms import (
    GENERAL,
    SCOPE_NAMES,
    Form,
    Msg,
    action_label,
    locale_of,
    page,
    pick,
    plugin_label,
    reauthorize,
)

PERMISSION = "users.manage"
PAGE_SIZE = 50
ROLES = "roles.manage"
NOTICES = {
    "created": N_("The user was created."),
    "saved": N_("Saved."),
    "roles": N_("The roles were changed. They apply from the user's next request."),
    "password": N_("The password was reset. The user's sessions have ended."),
    "enabled": N_("The user was enabled."),
    "disabled": N_("The user was disabled: every permission and session is gone, the data stays."),
}
CONFLICT = N_("Someone else changed this in the meantime. Reload and try again.")


def _login(request: Request) -> str:
    return str(request.path_params["login"])


def _roles(request: Request) -> list[tuple[str, str, bool]]:
    """(name, label, built-in) of every role, in the page's language."""
    locale = locale_of(request)
    return [(r.name, pick(locale, r.label, r.label_en), r.builtin)
            for r in role_svc.list_roles(ctx_for(request))]


# --- the list and creating users ----------------------------------------------------------
def users(request: Request) -> Response:
    return _list_page(request, Form({"locale": "zh_CN", "timezone": "Asia/Shanghai", "roles": []}))


def _list_page(request: Request, form: Form) -> Response:
    ctx = ctx_for(request)
    params = request.query_params
    search = Form({"q": params.get("q", "")[:64], "state": params.get("state", "")})
    query = {"q": search.text("q"), "state": search.text("state")}
    active = {"active": True, "disabled": False}.get(query["state"])
    cursor = params.get("cursor") or None
    try:
        result = user_svc.list_users_page(ctx, q=query["q"] or None, active=active, cursor=cursor,
                                          limit=PAGE_SIZE)
    except ValidationError:  # a cursor from an old link: start again
        cursor = None
        result = user_svc.list_users_page(ctx, q=query["q"] or None, active=active, limit=PAGE_SIZE)
    kept = {k: v for k, v in query.items() if v}
    return page(request, "admin/users.html", users=result.items, roles=_roles(request),
                teams=[t.name for t, _m in user_svc.list_teams(ctx)], form=form, search=search,
                next_url=f"/admin/users?{urlencode({**kept, 'cursor': result.next_cursor})}"
                if result.next_cursor else None,
                first_url=f"/admin/users?{urlencode(kept)}" if cursor else None,
                notice=NOTICES.get(params.get("done", "")), may_give_roles=ctx.actor.can(ROLES))


def create(request: Request) -> Response:
    form = Form.posted(request, "roles", secret=("password",))
    roles = form.getlist("roles")
    password = str(form_data(request).get("password") or "")
    data = {"login": form.text("login"), "password": password,
            "display_name": form.text("display_name"), "email": form.text("email") or None,
            "locale": form.text("locale") or "zh_CN", "timezone": form.text("timezone") or "Asia/Shanghai"}
    for check in (lambda: check_strength(password), lambda: parse(user_svc.UserCreate, data)):
        try:  # every mistake at once, before asking for the password
            check()
        except ValidationError as exc:
            form.take(exc)
    if not form.ok or (roles and not reauthorize(request, form, ROLES)):
        return _list_page(request, form)
    try:
        user = user_svc.create_user(ctx_for(request), data, roles=roles, team=form.text("team") or None)
    except ValidationError as exc:
        form.take(exc)
        return _list_page(request, form)
    return RedirectResponse(f"/admin/users/{user.login}?done=created", 303)


# --- one user -----------------------------------------------------------------------------
def detail(request: Request) -> Response:
    return _detail(request, _login(request))


def _detail(request: Request, login: str, **forms: Form) -> Response:
    ctx = ctx_for(request)
    user = user_svc.get_user(ctx, login)
    found = next((r, t) for u, r, t in user_svc.list_users(ctx) if u.login == login)
    profile = forms.get("profile") or Form({
        "display_name": user.display_name, "email": user.email or "", "locale": user.locale,
        "timezone": user.timezone, "version": str(user.version)})
    role_form = forms.get("roles") or Form({"roles": found[0]})
    actor = current_actor(request)
    return page(request, "admin/user.html", user=user, user_roles=found[0], user_teams=found[1],
                roles=_roles(request), profile=profile, role_form=role_form,
                password_form=forms.get("password") or Form(), active_form=forms.get("active") or Form(),
                notice=NOTICES.get(request.query_params.get("done", "")),
                own=actor is not None and actor.login == login,
                may_give_roles=ctx.actor.can(ROLES))


def update(request: Request) -> Response:
    login = _login(request)
    form = Form.posted(request)
    version = form.int_or_error("version")
    if form.ok:
        try:
            user_svc.update_user(ctx_for(request), login, {
                "display_name": form.text("display_name"), "email": form.text("email"),
                "locale": form.text("locale"), "timezone": form.text("timezone")}, version=version)
        except ValidationError as exc:
            form.take(exc)
        except Conflict:
            form.error(GENERAL, CONFLICT)
    if not form.ok:
        return _detail(request, login, profile=form)
    return RedirectResponse(f"/admin/users/{login}?done=saved", 303)


def change_roles(request: Request) -> Response:
    login = _login(request)
    form = Form.posted(request, "roles")
    if reauthorize(request, form, ROLES):
        try:
            role_svc.set_user_roles(ctx_for(request), login, form.getlist("roles"))
        except ValidationError as exc:
            form.take(exc)
    if not form.ok:
        return _detail(request, login, roles=form)
    return RedirectResponse(f"/admin/users/{login}?done=roles", 303)


def set_active(request: Request) -> Response:
    login = _login(request)
    form = Form.posted(request)
    active = form.checked("active")
    try:
        user_svc.set_active(ctx_for(request), login, active)
    except ValidationError as exc:
        form.take(exc, {"is_active": GENERAL})
        return _detail(request, login, active=form)
    return RedirectResponse(f"/admin/users/{login}?done={'enabled' if active else 'disabled'}", 303)


def reset_password(request: Request) -> Response:
    login = _login(request)
    form = Form.posted(request, secret=("password", "password2"))
    raw = form_data(request)
    new, again = str(raw.get("password") or ""), str(raw.get("password2") or "")
    if new != again:
        form.error("password2", N_("The two passwords differ."))
    actor = current_actor(request)
    if actor is not None and actor.login == login:
        form.error(GENERAL, N_("Change your own password with your current one, not here."))
    if form.ok and reauthorize(request, form, PERMISSION):
        try:
            user_svc.set_password(ctx_for(request), login, new)
        except ValidationError as exc:
            form.take(exc)
    if not form.ok:
        return _detail(request, login, password=form)
    return RedirectResponse(f"/admin/users/{login}?done=password", 303)


# --- effective access ---------------------------------------------------------------------
_GRANTED = re.compile(r"role (?P<role>\S+) grants (?P<action>\S+)(?: with scope (?P<scope>\w+))?")
_REASONS = {"user is disabled": N_("The user is disabled."),
            "no role of this user grants it": N_("None of the user's roles grants it.")}


def _reason(text: str, role_labels: dict[str, str]) -> Msg:
    found = _GRANTED.fullmatch(text)
    if found:
        role = role_labels.get(found["role"], found["role"])
        if found["scope"]:
            scope = SCOPE_NAMES.get(found["scope"])
            return Msg(N_("Role %(role)s grants it with scope %(scope)s."),
                       {"role": role, "scope": Msg(scope) if scope else found["scope"]})
        return Msg(N_("Role %(role)s grants it."), {"role": role})
    return Msg(_REASONS.get(text, "%(text)s"), {} if text in _REASONS else {"text": text})


def access(request: Request) -> Response:
    ctx = ctx_for(request)
    login = _login(request)
    user = user_svc.get_user(ctx, login)
    target, lines = role_svc.effective_access(ctx, login)
    locale = locale_of(request)
    role_labels = {name: label for name, label, _b in _roles(request)}
    groups: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        groups.setdefault(line.plugin, []).append({
            "action": line.action, "label": action_label(request, line.action, locale),
            "allowed": line.allowed, "scope": line.scope,
            "record": bool(kernel_of(request).actions[line.action][0].entity),
            "reasons": [_reason(r, role_labels) for r in line.reasons]})
    sections = [(plugin, plugin_label(request, plugin, locale), rows) for plugin, rows in groups.items()]
    sections.sort(key=lambda s: (s[0] != "core", s[0]))
    return page(request, "admin/access.html", user=user, target=target, sections=sections,
                role_labels=role_labels, allowed=sum(1 for line in lines if line.allowed),
                total=len(lines))


def routes() -> list[BaseRoute]:
    return [
        route("/admin/users", users, permission=PERMISSION, name="admin_users"),
        route("/admin/users", create, permission=PERMISSION, methods=("POST",), name="admin_user_create"),
        route("/admin/users/{login}", detail, permission=PERMISSION, name="admin_user"),
        route("/admin/users/{login}", update, permission=PERMISSION, methods=("POST",),
              name="admin_user_update"),
        route("/admin/users/{login}/roles", change_roles, permission=ROLES, methods=("POST",),
              name="admin_user_roles"),
        route("/admin/users/{login}/active", set_active, permission=PERMISSION, methods=("POST",),
              name="admin_user_active"),
        route("/admin/users/{login}/password", reset_password, permission=PERMISSION,
              methods=("POST",), name="admin_user_password"),
        route("/admin/users/{login}/access", access, permission=PERMISSION, name="admin_user_access"),
    ]
