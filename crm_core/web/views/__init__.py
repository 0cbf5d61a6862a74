"""The core's pages and API endpoints. Add a module here and list its routes in
:func:`core_routes` — every route is built with :func:`crm_core.web.routing.route`."""

from __future__ import annotations

from starlette.routing import BaseRoute


def core_routes() -> list[BaseRoute]:
    from crm_core.web.views import account, customers, home

    return [
        *home.routes(),
        *account.routes(),
        *customers.routes(),
        *__import__("crm_core.web.views.api_docs", fromlist=["routes"]).routes(),  # /api/v1
        *__import__("crm_core.web.views.admin", fromlist=["routes"]).routes(),  # /admin
        *__import__("crm_core.web.views.notifications", fromlist=["routes"]).routes(),
    ]
