"""The administration pages under ``/admin``: modules, users, teams, roles, custom fields and
the audit log. Each page is guarded by its own permission; the menu shows an entry only to
those who hold it (``crm_core.core_plugin.register_menu_items``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from crm_core.errors import PermissionDenied
from crm_core.web.routing import AUTHENTICATED, route
from crm_core.web.views import (
    admin_audit,
    admin_fields,
    admin_modules,
    admin_roles,
    admin_teams,
    admin_users,
)
from crm_core.web.views.admin_forms import page, sections


def index(request: Request) -> Response:
    """The admin pages this user may open (403 when there are none)."""
    if not sections(request):
        raise PermissionDenied("no administration page is open to this user")
    return page(request, "admin/index.html")


def routes() -> list[BaseRoute]:
    return [
        route("/admin", index, permission=AUTHENTICATED, name="admin"),
        *admin_modules.routes(),
        *admin_users.routes(),
        *admin_teams.routes(),
        *admin_roles.routes(),
        *admin_fields.routes(),
        *admin_audit.routes(),
    ]
