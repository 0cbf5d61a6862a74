"""The ASGI application: explicit routes, middleware and a lifespan that owns the kernel (and,
on a single server process, the scheduler)."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware

from crm_core.errors import CRMError
from crm_core.kernel import Kernel
from crm_core.plugin_system.host import CORE
from crm_core.settings import Settings, load_settings
from crm_core.web import hooks as web_hooks
from crm_core.web.errors import handle_crm_error, handle_http_error
from crm_core.web.routing import CRMRoute, inventory, plugin_route
from crm_core.web.security import MAX_BODY_SIZE, SecurityMiddleware
from crm_core.web.state import build_state
from crm_core.web.static import static_mount
from crm_core.web.views import core_routes

log = logging.getLogger("crm.web")


def install(app: Starlette, kernel: Kernel) -> None:
    """Bind the app to a kernel: its web hooks, templates and catalogs, the plugins' routes."""
    if not kernel.host.pm.has_plugin(web_hooks.NAME):
        kernel.host.pm.register(web_hooks, name=web_hooks.NAME)
    app.state.kernel = kernel
    app.state.web = build_state(kernel)
    routes = app.router.routes
    routes[:] = [r for r in routes if not (isinstance(r, CRMRoute) and r.info.plugin != CORE)]
    for decl, plugin in kernel.routes:
        try:
            routes.append(plugin_route(decl, plugin))
        except ValueError as exc:  # a malformed declaration must not take the site down
            log.error("plugin %s: route %s not mounted: %s", plugin, decl.path, exc)
            if kernel.host.strict:
                raise
    app.state.route_inventory = inventory(routes)


def create_app(settings: Settings | None = None, kernel: Kernel | None = None, *,
               workers: int = 1, max_body_size: int = MAX_BODY_SIZE) -> Starlette:
    """The application.

    :param settings: the deployment's settings (default: the given kernel's).
    :param kernel: serve this kernel (tests, embedding); its owner shuts it down. Without one,
        the lifespan builds a kernel from ``settings`` and shuts it down at the end.
    :param workers: how many server processes run the app; the scheduler is embedded only when
        there is one (otherwise ``crm worker`` runs it).
    :param max_body_size: larger request bodies are refused with 413.
    """
    if settings is None:
        if kernel is None:
            raise ValueError("create_app needs settings or a kernel")
        settings = kernel.settings
    cfg = settings

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        k = kernel if kernel is not None else Kernel(cfg)
        scheduler = None
        try:
            k.startup()
            if kernel is None:
                install(app, k)
            if cfg.scheduler_enabled and workers == 1:
                from crm_core.scheduler import SchedulerHost

                scheduler = SchedulerHost(k)
                scheduler.start()
            yield
        finally:
            if scheduler is not None:
                scheduler.stop()
            if kernel is None:
                k.shutdown()

    app = Starlette(
        routes=[*core_routes(), static_mount()],
        middleware=[Middleware(SecurityMiddleware, max_body_size=max_body_size)],
        exception_handlers={HTTPException: handle_http_error, CRMError: handle_crm_error},
        lifespan=lifespan,
    )
    app.state.route_inventory = inventory(app.routes)
    if kernel is not None:
        install(app, kernel)
    return app


def create_app_from_env() -> Starlette:
    """Factory for ``uvicorn --factory`` in each of several server processes (``crm serve
    --workers N``): settings from the environment, ``CRM_WEB_WORKERS`` processes."""
    return create_app(load_settings(), workers=int(os.environ.get("CRM_WEB_WORKERS") or 1))
