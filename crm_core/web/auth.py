"""Who is asking, CSRF tokens, cookies and re-authentication — the request side of
:mod:`crm_core.services.auth`.

The actor comes from the ``actor_from_request`` hook (first answer wins). The kernel's own answer
(:mod:`crm_core.web.hooks`, ``trylast`` so an SSO plugin can answer first) takes an
``Authorization: Bearer`` header when there is one — and then only it — otherwise the session
cookie. How the actor was found is kept on the request (:func:`auth_method`): ``"session"``,
``"token"``, ``"plugin"`` or ``None``.
"""

from __future__ import annotations

import hmac
import json
import secrets
from hashlib import sha256
from typing import TYPE_CHECKING, Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from crm_core.context import Ctx
from crm_core.errors import ValidationError
from crm_core.permissions.actor import Actor
from crm_core.services import auth as auth_svc
from crm_core.web.errors import CSRFFailed, ReauthRequired, Unauthenticated, wants_problem

if TYPE_CHECKING:
    from crm_core.kernel import Kernel
    from crm_core.models import WebSession
    from crm_core.web.state import WebState

SESSION_COOKIE = "crm_session"
CSRF_COOKIE = "crm_csrf"  # anonymous forms (sign-in, language) before there is a session
LOCALE_COOKIE = "crm_locale"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
REAUTH_HEADER = "x-reauth-password"
_MISSING = object()


def web_state(request: Request) -> WebState:
    return request.app.state.web


def kernel_of(request: Request) -> Kernel:
    return request.app.state.kernel


def client_ip(request: Request) -> str:
    return (request.client.host if request.client else "")[:45]


def current_actor(request: Request) -> Actor | None:
    """The signed-in actor of this request, or ``None`` (resolved once, then cached)."""
    cached = getattr(request.state, "crm_actor", _MISSING)
    if cached is not _MISSING:
        return cached  # type: ignore[return-value]
    kernel = kernel_of(request)
    actor = kernel.host.hook_caller("actor_from_request")(kernel=kernel, request=request)
    request.state.crm_actor = actor
    if actor is not None and getattr(request.state, "crm_auth", None) is None:
        request.state.crm_auth = "plugin"
    return actor


def auth_method(request: Request) -> str | None:
    return getattr(request.state, "crm_auth", None)


def web_session(request: Request) -> WebSession | None:
    """The browser session of this request (after :func:`current_actor`), or ``None``."""
    return getattr(request.state, "crm_session", None)


def ctx_for(request: Request) -> Ctx:
    """A service context for this request's actor (interface ``api`` or ``web``)."""
    actor = current_actor(request)
    if actor is None:
        raise Unauthenticated("sign in first")
    return kernel_of(request).ctx(actor, "api" if wants_problem(request) else "web")


def resolve_from_credentials(kernel: Kernel, request: Request) -> Actor | None:
    """The kernel's answer to ``actor_from_request``: bearer token, else session cookie."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        found_token = auth_svc.token_actor(kernel, value.strip())
        if found_token is None:
            return None
        request.state.crm_auth = "token"
        request.state.crm_token = found_token[0]
        return found_token[1]
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    found = auth_svc.session_actor(kernel, cookie)
    if found is None:
        delete_cookie(request, SESSION_COOKIE)
        return None
    request.state.crm_auth = "session"
    request.state.crm_session = found[0]
    return found[1]


# --- cookies ------------------------------------------------------------------------------
def set_cookie(request: Request, name: str, value: str, max_age: int | None = None,
               httponly: bool = True) -> None:
    """Set a cookie on this request's response (HttpOnly, SameSite=Lax, path /, Secure on https)."""
    pending: dict[str, dict[str, Any]] | None = getattr(request.state, "crm_cookies", None)
    if pending is None:
        pending = request.state.crm_cookies = {}
    pending[name] = {"value": value, "max_age": max_age, "httponly": httponly}


def delete_cookie(request: Request, name: str) -> None:
    set_cookie(request, name, "", max_age=0)


def apply_cookies(request: Request, response: Response) -> None:
    pending = getattr(request.state, "crm_cookies", None) or {}
    if not pending:  # most requests: no need to build the URL for its scheme
        request.state.crm_cookies = {}
        return
    secure = request.url.scheme == "https"
    for name, c in pending.items():
        if c["max_age"] == 0:
            response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="lax")
        else:
            response.set_cookie(name, c["value"], max_age=c["max_age"], path="/", secure=secure,
                                httponly=c["httponly"], samesite="lax")
    request.state.crm_cookies = {}


# --- CSRF ---------------------------------------------------------------------------------
def _sign(request: Request, message: str) -> str:
    key = web_state(request).session_key
    return hmac.new(key, message.encode(), sha256).hexdigest()


def _expected_csrf(request: Request) -> str | None:
    session = web_session(request)
    if session is not None:
        return _sign(request, "s:" + session.csrf_secret)
    anon = request.cookies.get(CSRF_COOKIE, "")
    pending = (getattr(request.state, "crm_cookies", None) or {}).get(CSRF_COOKIE)
    if pending and pending["max_age"] != 0:
        anon = pending["value"]
    if len(anon) < 32:
        return None
    return _sign(request, "a:" + anon)


def csrf_token(request: Request) -> str:
    """The token a form on this page must send back (field ``csrf_token`` or header
    ``X-CSRF-Token``). Before sign-in it is bound to a random ``crm_csrf`` cookie, set here."""
    token = _expected_csrf(request)
    if token is None:
        set_cookie(request, CSRF_COOKIE, secrets.token_urlsafe(32))
        token = _expected_csrf(request)
    assert token is not None
    return token


def check_csrf(request: Request, api: bool) -> None:
    """Refuse an unsafe request that a browser could have been tricked into sending.

    Bearer-token requests are exempt (no ambient credential). On the API, an anonymous request
    carries no credential either and is exempt; pages always check (sign-in CSRF included).
    """
    method = auth_method(request)
    if method == "token" or (api and method is None):
        return
    submitted = request.headers.get(CSRF_HEADER)
    if not submitted:
        value = form_data(request).get(CSRF_FIELD)
        submitted = value if isinstance(value, str) else None
    expected = _expected_csrf(request)
    if not submitted or expected is None or not hmac.compare_digest(submitted, expected):
        raise CSRFFailed("the form is stale or was not sent from this site; reload it and try again")


# --- request bodies -----------------------------------------------------------------------
def form_data(request: Request) -> FormData:
    """The submitted form of an unsafe request (read before the endpoint runs), else empty."""
    form = getattr(request.state, "crm_form", None)
    return form if isinstance(form, FormData) else FormData()


def json_body(request: Request) -> Any:
    """The JSON body of an unsafe request (read before the endpoint runs).

    :raises ValidationError: the body is not JSON.
    """
    raw = getattr(request.state, "crm_body", b"") or b""
    try:
        return json.loads(raw)
    except ValueError:
        raise ValidationError("the request body is not valid JSON", {"body": ["not valid JSON"]}) from None


# --- re-authentication --------------------------------------------------------------------
def require_reauth(request: Request, action: str) -> None:
    """Pass only if the user confirmed their password for ``action`` just before.

    A browser session uses up its re-authentication (``POST /reauth``, valid 5 minutes, once);
    a bearer-token request must carry the user's password in ``X-Reauth-Password``.
    Synchronous (it reads the database): call it from a sync endpoint or through
    ``run_in_threadpool``.

    :raises ReauthRequired: API → 403 ``reauth-required``; pages → the re-authentication form,
        which returns to the page.
    """
    kernel = kernel_of(request)
    actor = current_actor(request)
    if actor is None:
        raise ReauthRequired(action)
    if auth_method(request) == "token":
        password = request.headers.get(REAUTH_HEADER)
        if password and auth_svc.verify_actor_password(kernel, actor, password, client_ip(request)):
            return
        raise ReauthRequired(action)
    session = web_session(request)
    if session is not None and auth_svc.consume_reauthentication(kernel, session.id, action):
        return
    raise ReauthRequired(action)
