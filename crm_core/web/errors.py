"""Errors as ``application/problem+json`` (API) or an error page in the user's language.

Problem documents (RFC 9457)::

    {"type": "https://mosaic-crm.dev/problems/validation-error", "title": "Unprocessable Content",
     "status": 422, "detail": "invalid input", "instance": "/api/v1/…",
     "errors": {"phone": ["not a valid phone number"]}}

``type`` is ``PROBLEM_BASE`` + the stable slug of the error (``CRMError.type``); ``errors`` only
on validation errors; other members a domain error carries (``current_version`` on a conflict,
``action`` on ``reauth-required``, ``retry_after``) are added as they are. A 500 says nothing of
the failure but an ``error_id`` that is also in the server log.
"""

from __future__ import annotations

import logging
import secrets
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from crm_core.errors import CRMError, PermissionDenied, ValidationError
from crm_core.services.base import jsonable
from crm_core.web.i18n import N_

if TYPE_CHECKING:
    from crm_core.web.routing import RouteInfo

log = logging.getLogger("crm.web")
PROBLEM_BASE = "https://mosaic-crm.dev/problems/"
PROBLEM_JSON = "application/problem+json"

STATUS_SLUGS = {
    400: "bad-request", 401: "unauthenticated", 403: "permission-denied", 404: "not-found",
    405: "method-not-allowed", 409: "conflict", 412: "precondition-failed",
    413: "payload-too-large", 415: "unsupported-media-type", 422: "validation-error",
    429: "too-many-attempts", 500: "internal-error", 503: "unavailable",
}
# What the error page says, per status (translated).
PAGE_MESSAGES = {
    400: (N_("Bad request"), N_("The request could not be understood.")),
    401: (N_("Please sign in"), N_("You need to sign in to see this page.")),
    403: (N_("Not allowed"), N_("You do not have permission to do this.")),
    404: (N_("Page not found"), N_("This page does not exist, or its module is switched off.")),
    405: (N_("Not allowed"), N_("This page does not accept this kind of request.")),
    409: (N_("Conflict"), N_("Someone else changed this in the meantime. Reload and try again.")),
    412: (N_("Conflict"), N_("Someone else changed this in the meantime. Reload and try again.")),
    413: (N_("Too large"), N_("What you sent is too large.")),
    422: (N_("Please check your input"), N_("Some values are not valid.")),
    429: (N_("Too many attempts"), N_("Too many failed attempts. Please wait and try again.")),
    500: (N_("Something went wrong"), N_("An unexpected error occurred. It has been logged.")),
}
# Errors whose page says something more specific than their status.
TYPE_MESSAGES = {
    "csrf-failed": (N_("Form expired"),
                    N_("This form has expired or was not sent from this site. "
                       "Go back, reload the page and try again.")),
}
_RESERVED = {"type", "title", "status", "detail", "instance", "errors"}


class Unauthenticated(CRMError):
    """No (valid) session or token: API → 401, pages → sign-in form."""

    type = "unauthenticated"
    status = 401


class CSRFFailed(PermissionDenied):
    """An unsafe request from a browser without this session's CSRF token."""

    type = "csrf-failed"


class ReauthRequired(PermissionDenied):
    """The action needs the password again (``POST /reauth``, or the ``X-Reauth-Password``
    header with a bearer token)."""

    type = "reauth-required"

    def __init__(self, action: str) -> None:
        super().__init__(f"confirm your password to do {action}", action=action)
        self.action = action


class PayloadTooLarge(CRMError):
    type = "payload-too-large"
    status = 413


def route_info(request: Request) -> RouteInfo | None:
    return getattr(request.state, "crm_route", None)


def wants_problem(request: Request) -> bool:
    """API paths (``/api/…``) and routes declared ``api=True`` answer problem+json."""
    info = route_info(request)
    return request.url.path.startswith("/api/") or bool(info and info.api)


def problem(status: int, slug: str, detail: str, *, instance: str | None = None,
            errors: dict[str, list[str]] | None = None, headers: dict[str, str] | None = None,
            **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": _phrase(status),
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = errors
    for k, v in extra.items():
        if k not in _RESERVED:
            body[k] = jsonable(v)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


_RFC9110_NAMES = {413: "Content Too Large", 422: "Unprocessable Content"}  # same on every Python


def _phrase(status: int) -> str:
    if status in _RFC9110_NAMES:
        return _RFC9110_NAMES[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _safe_extra(exc: CRMError) -> dict[str, Any]:
    return {k: v for k, v in exc.extra.items()
            if isinstance(v, str | int | float | bool | list | dict | type(None))}


def _next_for(request: Request) -> str:
    if request.method in ("GET", "HEAD"):
        return request.url.path + (f"?{request.url.query}" if request.url.query else "")
    ref = request.headers.get("referer", "")
    parts = urlsplit(ref)
    if ref and parts.netloc == request.url.netloc:
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return "/"


def _page(request: Request, status: int, detail: str = "", errors: dict[str, list[str]] | None = None,
          headers: dict[str, str] | None = None, error_id: str | None = None,
          kind: str | None = None) -> Response:
    from crm_core.web.templating import render

    title, text = PAGE_MESSAGES.get(status, PAGE_MESSAGES[500 if status >= 500 else 400])
    if kind in TYPE_MESSAGES:
        title, text = TYPE_MESSAGES[kind]
        detail = ""
    try:
        return render(request, "error.html", status_code=status, headers=headers,
                      error_title=title, error_text=text, detail=detail, errors=errors or {},
                      error_id=error_id)
    except Exception:  # the error page must not fail in turn
        log.exception("cannot render the error page")
        return PlainTextResponse(f"{status} {_phrase(status)}", status_code=status, headers=headers)


def crm_error_response(request: Request, exc: CRMError) -> Response:
    """The response for a domain error on this request (sync: may render a template)."""
    from crm_core.web.auth import apply_cookies

    status = exc.status
    if status >= 500:
        return internal_error_response(request, exc)
    api = wants_problem(request)
    headers: dict[str, str] = {}
    if isinstance(exc, Unauthenticated):
        if not api:
            return RedirectResponse(f"/login?next={quote(_next_for(request), safe='')}", 303)
        headers["WWW-Authenticate"] = 'Bearer realm="crm"'
    if isinstance(exc, ReauthRequired) and not api:
        return RedirectResponse(
            f"/reauth?action={quote(exc.action, safe='')}&next={quote(_next_for(request), safe='')}",
            303)
    retry = exc.extra.get("retry_after")
    if isinstance(retry, int):
        headers["Retry-After"] = str(retry)
    errors = exc.errors if isinstance(exc, ValidationError) else None
    if api:
        response: Response = problem(status, exc.type, exc.message, instance=request.url.path,
                                     errors=errors if errors is not None else None,
                                     headers=headers or None, **_safe_extra(exc))
    else:
        response = _page(request, status, exc.message, errors, headers or None, kind=exc.type)
    apply_cookies(request, response)
    return response


def internal_error_response(request: Request, exc: BaseException) -> Response:
    error_id = secrets.token_hex(4)
    log.error("unhandled error %s on %s %s", error_id, request.method, request.url.path,
              exc_info=(type(exc), exc, exc.__traceback__))
    if wants_problem(request):
        return problem(500, "internal-error", "An unexpected error occurred; it has been logged.",
                       instance=request.url.path, error_id=error_id)
    return _page(request, 500, error_id=error_id)


async def _with_actor(request: Request) -> None:
    """Best effort: who is asking, so the error page speaks their language."""
    from crm_core.web.auth import current_actor

    try:
        await run_in_threadpool(current_actor, request)
    except Exception:
        log.debug("no actor for the error page", exc_info=True)


async def handle_crm_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CRMError)
    if not wants_problem(request):
        await _with_actor(request)
    return await run_in_threadpool(crm_error_response, request, exc)


async def handle_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    headers = dict(exc.headers or {})
    if wants_problem(request):
        detail = exc.detail if exc.detail != _phrase(status) else _phrase(status).lower()
        if status == 404:
            detail = f"{request.url.path} does not exist"
        return problem(status, STATUS_SLUGS.get(status, "error"), detail,
                       instance=request.url.path, headers=headers or None)
    await _with_actor(request)
    return await run_in_threadpool(_page, request, status, "", None, headers or None)
