"""Home dashboard, health, plugin status and ``/api/v1/me``."""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from crm_core import __version__
from crm_core.db import utcnow
from crm_core.web import i18n
from crm_core.web.auth import ctx_for, current_actor, kernel_of, web_state
from crm_core.web.routing import AUTHENTICATED, route
from crm_core.web.templating import render, slot
from crm_core.web.views import customers_widgets

log = logging.getLogger("crm.web")


async def health(request: Request) -> JSONResponse:
    """``GET /-/health``: the process answers and the database runs ``SELECT 1``."""
    kernel = kernel_of(request)
    body = {"status": "ok", "version": __version__,
            "database": "sqlite" if kernel.settings.is_sqlite else "postgresql"}

    def ping() -> None:
        with kernel.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    try:
        await run_in_threadpool(ping)
    except SQLAlchemyError as exc:
        log.warning("health check: database unreachable: %s", exc.__class__.__name__)
        return JSONResponse({**body, "status": "error"}, status_code=503)
    return JSONResponse(body)


def home(request: Request) -> Response:
    """The dashboard: the kernel's widgets and the enabled plugins' (``dashboard_widgets``),
    together by ``order``."""
    actor = current_actor(request)
    assert actor is not None
    with i18n.use_locale(web_state(request).scope_for(request)):
        own = customers_widgets.dashboard_widgets(kernel_of(request), ctx_for(request))
    widgets = sorted([*own, *slot(request, "dashboard_widgets")], key=lambda w: w.order)
    return render(request, "home.html", widgets=widgets, now=utcnow(),
                  can_read=actor.can("customers.read"), can_create=actor.can("customers.create"))


def plugins_json(request: Request) -> JSONResponse:
    """Every installed plugin: name, version, enabled, status (loaded/failed) and error."""
    host = kernel_of(request).host
    enabled = host.enabled(refresh=True)
    rows = []
    for name in sorted(host.records):
        rec = host.records[name]
        rows.append({
            "name": name,
            "version": rec.manifest.version if rec.manifest else None,
            "enabled": name in enabled,
            "status": rec.status,
            "error": rec.error,
        })
    return JSONResponse({"plugins": rows})


def me(request: Request) -> JSONResponse:
    """Who the credentials belong to, and what they may do."""
    actor = current_actor(request)
    assert actor is not None
    return JSONResponse({
        "id": actor.id, "login": actor.login, "display_name": actor.display_name,
        "locale": actor.locale, "timezone": actor.timezone, "roles": list(actor.roles),
        "permissions": {a: g.scope for a, g in sorted(actor.grants.items())},
    })


def routes() -> list[BaseRoute]:
    return [
        route("/", home, permission=AUTHENTICATED, name="home"),
        route("/-/health", health, public=True, api=True, name="health"),
        route("/-/plugins.json", plugins_json, permission="plugins.manage", api=True,
              name="plugins_json"),
        route("/api/v1/me", me, permission=AUTHENTICATED, name="api_me"),
    ]
