"""The web shell (Starlette). ``create_app(settings)`` builds the ASGI application.

What pages and API endpoints use::

    from crm_core.web import AUTHENTICATED, route, render, ctx_for, form_data, json_body

    def customer_list(request):                       # sync: runs in the thread pool
        page = list_customers(ctx_for(request), request.query_params)
        return render(request, "customers/list.html", page=page)

    ROUTES = [route("/customers", customer_list, permission="customers.read")]
"""

from __future__ import annotations

from crm_core.web.app import create_app, create_app_from_env
from crm_core.web.auth import (
    csrf_token,
    ctx_for,
    current_actor,
    form_data,
    json_body,
    require_reauth,
    set_cookie,
)
from crm_core.web.errors import ReauthRequired, Unauthenticated, problem
from crm_core.web.i18n import N_
from crm_core.web.routing import AUTHENTICATED, PUBLIC, RouteInfo, route
from crm_core.web.templating import fragment, render, slot

__all__ = [
    "AUTHENTICATED",
    "N_",
    "PUBLIC",
    "ReauthRequired",
    "RouteInfo",
    "Unauthenticated",
    "create_app",
    "create_app_from_env",
    "csrf_token",
    "ctx_for",
    "current_actor",
    "form_data",
    "fragment",
    "json_body",
    "problem",
    "render",
    "require_reauth",
    "route",
    "set_cookie",
    "slot",
]
