"""A test plugin contributing pages, API endpoints, menu items, a dashboard widget, a template
folder and static files — everything the web layer mounts from a plugin."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from crm_core.declarations import Action, MenuItem, Panel, RouteDecl
from crm_core.errors import Conflict, NotFound, PreconditionFailed, ValidationError
from crm_core.hookspecs import hookimpl
from crm_core.services.customers import get_customer
from crm_core.web import ctx_for, fragment, json_body, render, require_reauth


def page(request: Request) -> Response:
    return render(request, "webplug/page.html", title="Webplug")


def customer_page(request: Request) -> Response:
    customer = get_customer(ctx_for(request), request.path_params["id"])
    return render(request, "webplug/page.html", title=customer.name)


def items(request: Request) -> JSONResponse:
    if request.method == "POST":
        return JSONResponse({"created": json_body(request)}, status_code=201)
    return JSONResponse({"items": [1, 2, 3]})


def danger(request: Request) -> JSONResponse:
    require_reauth(request, "webplug.admin")
    return JSONResponse({"done": True})


def danger_page(request: Request) -> Response:
    require_reauth(request, "webplug.admin")
    return render(request, "webplug/page.html", title="done")


def boom(request: Request) -> Response:
    raise RuntimeError("secret internals: password=hunter2")


FAILURES: dict[str, Exception] = {
    "conflict": Conflict("customer 1 was changed by someone else", current_version=3),
    "precondition": PreconditionFailed("If-Match does not match", current_version=4),
    "validation": ValidationError("invalid input", {"phone": ["not a valid phone number"]}),
    "missing": NotFound("no customer 99"),
}


def fail(request: Request) -> Response:
    raise FAILURES[request.path_params["kind"]]


def members(request: Request) -> Response:
    return render(request, "webplug/page.html", title="members")


def open_page(request: Request) -> Response:
    return render(request, "webplug/page.html", title="open")


class Hooks:
    @hookimpl
    def register_permissions(self, kernel: Any) -> list[Action]:
        return [
            Action("webplug.view", "查看插件", "View the plugin",
                   defaults={"admin": True, "sales_rep": True}),
            Action("webplug.admin", "管理插件", "Administer the plugin", defaults={"admin": True},
                   sensitive=True),
        ]

    @hookimpl
    def register_routes(self, kernel: Any) -> list[RouteDecl]:
        return [
            RouteDecl("/", page, permission="webplug.view", name="page"),
            RouteDecl("/customer/{id:int}", customer_page, permission="customers.read"),
            RouteDecl("/items", items, methods=("GET", "POST"), permission="webplug.view", api=True),
            RouteDecl("/danger", danger, methods=("POST",), permission="webplug.admin", api=True),
            RouteDecl("/danger", danger_page, methods=("POST",), permission="webplug.admin"),
            RouteDecl("/boom", boom, permission="webplug.view", api=True),
            RouteDecl("/boom", boom, permission="webplug.view"),
            RouteDecl("/fail/{kind}", fail, permission="webplug.view", api=True),
            RouteDecl("/members", members),
            RouteDecl("/open", open_page, permission="public"),
        ]

    @hookimpl
    def register_menu_items(self, kernel: Any) -> list[MenuItem]:
        return [
            MenuItem("webplug.page", "插件页面", "Plugin page", "/webplug/", permission="webplug.view",
                     order=20),
            MenuItem("webplug.admin", "插件管理", "Plugin admin", "/webplug/admin",
                     permission="webplug.admin", order=30),
            MenuItem("webplug.notices", "公告", "Notices", "/webplug/members", order=10),
        ]

    @hookimpl
    def dashboard_widgets(self, kernel: Any, ctx: Any) -> list[Panel]:
        return [
            Panel("second", "Second", "<p>two</p>", order=20),
            Panel("first", "First", fragment(kernel, "webplug/widget.html", login=ctx.actor.login),
                  order=10),
        ]
