"""Routes that declare who may use them, and the guard that enforces it.

Every route is built with :func:`route` and names a permission: an action (``customers.read``),
``AUTHENTICATED`` (any signed-in user) or ``PUBLIC``. Before the endpoint runs, the guard

1. answers 404 when the route's plugin is disabled (checked per request: no restart needed);
2. resolves the actor; anonymous → 401 problem (API) or a redirect to ``/login?next=…`` (pages);
   missing permission → 403;
3. for POST/PUT/PATCH/DELETE reads the body (form fields → :func:`~crm_core.web.auth.form_data`,
   raw → :func:`~crm_core.web.auth.json_body`), checks the CSRF token, and, for routes declared
   ``reauth=True``, uses up the user's re-authentication for the route's permission.

Sync endpoints run in the thread pool (use them for database work); async ones on the loop.
``app.state.route_inventory`` lists every route with its permission so a test can prove none
was forgotten.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from starlette._utils import is_async_callable
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from crm_core.declarations import RouteDecl
from crm_core.errors import NotFound, PermissionDenied
from crm_core.plugin_system.host import CORE
from crm_core.web.auth import apply_cookies, check_csrf, current_actor, kernel_of, require_reauth
from crm_core.web.errors import Unauthenticated

PUBLIC = "public"
AUTHENTICATED = "authenticated"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class RouteInfo(NamedTuple):
    path: str
    methods: tuple[str, ...]
    permission: str  # an action, AUTHENTICATED or PUBLIC ("" = undeclared: a bug)
    api: bool = False
    plugin: str = CORE
    csrf: bool = True
    reauth: bool = False
    name: str | None = None

    @property
    def public(self) -> bool:
        return self.permission == PUBLIC


class CRMRoute(Route):
    """A Starlette route carrying its :class:`RouteInfo`."""

    info: RouteInfo


def route(
    path: str,
    endpoint: Callable[[Request], Any],
    *,
    permission: str | None = None,
    public: bool = False,
    methods: tuple[str, ...] | list[str] = ("GET",),
    name: str | None = None,
    api: bool | None = None,
    csrf: bool = True,
    reauth: bool = False,
    plugin: str = CORE,
) -> CRMRoute:
    """A guarded route. Give exactly one of ``permission`` (an action name or
    ``AUTHENTICATED``) and ``public=True``.

    :param api: errors as problem+json (default: the path starts with ``/api/``).
    :param csrf: ``False`` only for endpoints authenticated otherwise (signed webhooks).
    :param reauth: unsafe requests need a fresh re-authentication for ``permission``.
    """
    if public and permission not in (None, PUBLIC):
        raise ValueError(f"route {path}: public=True and permission={permission!r} contradict")
    if not public and not permission:
        raise ValueError(f"route {path}: declare permission='<action>' / AUTHENTICATED or public=True")
    perm = PUBLIC if public else str(permission)
    if reauth and perm in (PUBLIC, AUTHENTICATED):
        raise ValueError(f"route {path}: reauth=True needs a named permission")
    methods = tuple(m.upper() for m in methods)
    info = RouteInfo(path, methods, perm, path.startswith("/api/") if api is None else api,
                     plugin, csrf, reauth, name)
    r = CRMRoute(path, _guarded(endpoint, info), methods=list(methods), name=name)
    r.info = info
    return r


def _admit(request: Request, info: RouteInfo) -> None:
    kernel = kernel_of(request)
    if info.plugin != CORE and not kernel.host.is_enabled(info.plugin):
        raise NotFound(f"{request.url.path} does not exist")
    actor = current_actor(request)
    if info.public:
        return
    if actor is None:
        raise Unauthenticated("sign in, or send an API token (Authorization: Bearer …)")
    if info.permission != AUTHENTICATED and not actor.can(info.permission):
        raise PermissionDenied(f"{actor.login} may not {info.permission}")


async def _read_body(request: Request) -> None:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in _FORM_TYPES:
        request.state.crm_form = await request.form()
    else:
        request.state.crm_body = await request.body()


def _guarded(endpoint: Callable[[Request], Any], info: RouteInfo) -> Callable[[Request], Any]:
    is_async = is_async_callable(endpoint)

    def admit_and_run(request: Request) -> Any:
        _admit(request, info)
        return endpoint(request)

    async def guarded(request: Request) -> Response:
        request.state.crm_route = info
        try:
            if not is_async and request.method not in UNSAFE_METHODS:
                # nothing to read or check between the two: one trip to the thread pool, not two
                response = await run_in_threadpool(admit_and_run, request)
                apply_cookies(request, response)
                return response
            await run_in_threadpool(_admit, request, info)
            if request.method in UNSAFE_METHODS:
                await _read_body(request)
                if info.csrf:
                    check_csrf(request, info.api)
                if info.reauth:
                    await run_in_threadpool(require_reauth, request, info.permission)
            if is_async:
                response = await endpoint(request)
            else:
                response = await run_in_threadpool(endpoint, request)
            apply_cookies(request, response)
            return response
        finally:
            await request.close()

    guarded.__name__ = getattr(endpoint, "__name__", "endpoint")
    guarded.__doc__ = getattr(endpoint, "__doc__", None)
    return guarded


def plugin_path(decl: RouteDecl, plugin: str) -> str:
    """Where a plugin's route is mounted: ``/<plugin><path>`` or ``/api/v1/<plugin><path>``; an
    empty ``path`` is the prefix itself (``/api/v1/leads``, a collection without a trailing
    slash)."""
    prefix = f"/api/v1/{plugin}" if decl.api else f"/{plugin}"
    if not decl.path:
        return prefix
    return prefix + (decl.path if decl.path.startswith("/") else "/" + decl.path)


def plugin_route(decl: RouteDecl, plugin: str) -> CRMRoute:
    """A plugin's declared route, mounted under ``/<plugin>`` or ``/api/v1/<plugin>``.

    ``permission=None`` means any signed-in user (deny by default); ``"public"`` opens it.
    """
    path = plugin_path(decl, plugin)
    perm = decl.permission or AUTHENTICATED
    if not decl.csrf and perm != PUBLIC:
        raise ValueError(f"route {path}: csrf=False is only for public routes")
    return route(path, decl.endpoint, permission=None if perm == PUBLIC else perm,
                 public=perm == PUBLIC, methods=decl.methods, api=decl.api, csrf=decl.csrf,
                 name=f"{plugin}:{decl.name}" if decl.name else None, plugin=plugin)


def inventory(routes: list[BaseRoute]) -> list[RouteInfo]:
    """Every route with what it needs; a route not built by :func:`route` shows permission ``""``."""
    out: list[RouteInfo] = []
    for r in routes:
        if isinstance(r, CRMRoute):
            out.append(r.info)
        elif isinstance(r, Mount) and getattr(r, "crm_public", False):
            out.append(RouteInfo(r.path + "/{path}", ("GET", "HEAD"), PUBLIC))
        else:
            path = getattr(r, "path", repr(r))
            methods = tuple(sorted(getattr(r, "methods", None) or ()))
            out.append(RouteInfo(path, methods, ""))
    return out
