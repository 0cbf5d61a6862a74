"""The ASGI application: explicit routes and a lifespan that owns the kernel (and, on a single
server process, the scheduler)."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from crm_core import __version__
from crm_core.kernel import Kernel
from crm_core.settings import Settings, load_settings

log = logging.getLogger("crm.web")


def _database_kind(settings: Settings) -> str:
    return "sqlite" if settings.is_sqlite else "postgresql"


async def health(request: Request) -> JSONResponse:
    """``GET /-/health``: the process answers and the database runs ``SELECT 1``."""
    kernel: Kernel = request.app.state.kernel
    body = {"status": "ok", "version": __version__, "database": _database_kind(kernel.settings)}

    def ping() -> None:
        with kernel.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    try:
        await run_in_threadpool(ping)
    except SQLAlchemyError as exc:
        log.warning("health check: database unreachable: %s", exc.__class__.__name__)
        return JSONResponse({**body, "status": "error"}, status_code=503)
    return JSONResponse(body)


def create_app(settings: Settings, *, workers: int = 1) -> Starlette:
    """The application. ``workers``: how many server processes run it; the scheduler is
    embedded only when there is one (otherwise ``crm worker`` runs it)."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        kernel = Kernel(settings)
        scheduler = None
        try:
            kernel.startup()
            if settings.scheduler_enabled and workers == 1:
                from crm_core.scheduler import SchedulerHost

                scheduler = SchedulerHost(kernel)
                scheduler.start()
            app.state.kernel = kernel
            yield
        finally:
            if scheduler is not None:
                scheduler.stop()
            kernel.shutdown()

    return Starlette(routes=[Route("/-/health", health, methods=["GET"])], lifespan=lifespan)


def create_app_from_env() -> Starlette:
    """Factory for ``uvicorn --factory`` in each of several server processes (``crm serve
    --workers N``): settings from the environment, ``CRM_WEB_WORKERS`` processes."""
    return create_app(load_settings(), workers=int(os.environ.get("CRM_WEB_WORKERS") or 1))
