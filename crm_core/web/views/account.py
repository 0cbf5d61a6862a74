"""Sign in, sign out, re-authenticate, switch language."""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from crm_core.errors import ValidationError
from crm_core.services import auth as auth_svc
from crm_core.web.auth import (
    LOCALE_COOKIE,
    SESSION_COOKIE,
    client_ip,
    ctx_for,
    current_actor,
    delete_cookie,
    form_data,
    kernel_of,
    set_cookie,
    web_session,
)
from crm_core.web.i18n import LOCALES, N_
from crm_core.web.routing import AUTHENTICATED, route
from crm_core.web.templating import render

WRONG_PASSWORD = N_("Wrong login or password.")
THROTTLED = N_("Too many failed attempts. Try again in %(minutes)s minutes.")


def safe_next(value: object, default: str = "/",
              avoid: tuple[str, ...] = ("/login", "/logout", "/reauth")) -> str:
    """A local path to go to after a form, never another site (``//evil``, ``/\\evil``), nor
    one of the ``avoid`` pages (a sign-in that leads back to the sign-in form)."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//"):
        return default
    if any(c in value for c in "\\\r\n\t") or len(value) > 2000:
        return default
    if value.split("?")[0] in avoid:
        return default
    return value


def _field(request: Request, name: str, limit: int = 200) -> str:
    value = form_data(request).get(name)
    return value[:limit] if isinstance(value, str) else ""


def _throttled(exc: auth_svc.TooManyAttempts) -> dict[str, Any]:
    return {"error": THROTTLED, "error_args": {"minutes": max(1, math.ceil(exc.retry_after / 60))}}


def login_form(request: Request) -> Response:
    target = safe_next(request.query_params.get("next"))
    if current_actor(request) is not None:
        return RedirectResponse(target, 303)
    return render(request, "login.html", next=target, login="")


def login_submit(request: Request) -> Response:
    login = _field(request, "login", 64).strip()
    target = safe_next(_field(request, "next", 2000))
    try:
        new = auth_svc.log_in(
            kernel_of(request), login, _field(request, "password", 1024), ip=client_ip(request),
            user_agent=request.headers.get("user-agent", ""),
            replace=request.cookies.get(SESSION_COOKIE),
        )
    except auth_svc.TooManyAttempts as exc:
        return render(request, "login.html", status_code=429,
                      headers={"Retry-After": str(exc.retry_after)}, next=target, login=login,
                      **_throttled(exc))
    except auth_svc.LoginFailed:
        return render(request, "login.html", next=target, login=login, error=WRONG_PASSWORD)
    set_cookie(request, SESSION_COOKIE, new.token,
               max_age=int(auth_svc.SESSION_LIFETIME.total_seconds()))
    return RedirectResponse(target, 303)


def logout(request: Request) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        auth_svc.revoke_session(kernel_of(request), token)
    delete_cookie(request, SESSION_COOKIE)
    return RedirectResponse("/login", 303)


def _action_label(request: Request, action: str, locale: str) -> str:
    found = kernel_of(request).actions.get(action)
    if found is None:
        return action
    a = found[0]
    return a.label if locale == "zh_CN" else (a.label_en or a.label)


def reauth_form(request: Request) -> Response:
    return _reauth_page(request)


def _reauth_page(request: Request, status_code: int = 200, headers: dict[str, str] | None = None,
                 error: str | None = None, error_args: dict[str, Any] | None = None) -> Response:
    source = form_data(request) if request.method == "POST" else request.query_params
    action = str(source.get("action") or "")[:120]
    target = safe_next(source.get("next"))
    locale = request.app.state.web.locale_for(request)
    return render(request, "reauth.html", status_code=status_code, headers=headers, action=action,
                  action_label=_action_label(request, action, locale), next=target, error=error,
                  error_args=error_args)


def reauth_submit(request: Request) -> Response:
    action = _field(request, "action", 120)
    session = web_session(request)
    if not action:
        raise ValidationError("nothing to confirm", {"action": ["missing"]})
    if session is None:
        raise ValidationError("re-authentication needs a browser session; API clients send the "
                              "X-Reauth-Password header with the request itself")
    actor = current_actor(request)
    assert actor is not None
    try:
        ok = auth_svc.verify_actor_password(kernel_of(request), actor,
                                            _field(request, "password", 1024), client_ip(request))
    except auth_svc.TooManyAttempts as exc:
        return _reauth_page(request, status_code=429, headers={"Retry-After": str(exc.retry_after)},
                            **_throttled(exc))
    if not ok:
        return _reauth_page(request, error=N_("Wrong password."))
    auth_svc.mark_reauthenticated(kernel_of(request), session.id, action)
    return RedirectResponse(safe_next(_field(request, "next", 2000)), 303)


def set_locale(request: Request) -> Response:
    locale = _field(request, "locale", 10)
    if locale not in LOCALES:
        raise ValidationError("invalid locale", {"locale": [f"one of {', '.join(LOCALES)}"]})
    actor = current_actor(request)
    if actor is not None and actor.id is not None:
        auth_svc.set_own_locale(ctx_for(request), locale)
    set_cookie(request, LOCALE_COOKIE, locale, max_age=365 * 24 * 3600)
    return RedirectResponse(safe_next(_field(request, "next", 2000), avoid=("/logout",)), 303)


def routes() -> list[BaseRoute]:
    return [
        route("/login", login_form, public=True, name="login"),
        route("/login", login_submit, public=True, methods=("POST",), name="login_submit"),
        route("/logout", logout, permission=AUTHENTICATED, methods=("POST",), name="logout"),
        route("/reauth", reauth_form, permission=AUTHENTICATED, name="reauth"),
        route("/reauth", reauth_submit, permission=AUTHENTICATED, methods=("POST",),
              name="reauth_submit"),
        route("/-/locale", set_locale, public=True, methods=("POST",), name="locale"),
    ]
