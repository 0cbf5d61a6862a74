"""A small module for the browser tests: one page and one menu entry, so switching the module off
and on in the admin pages can be watched in the menu."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from crm_core.declarations import MenuItem, RouteDecl
from crm_core.hookspecs import hookimpl
from crm_core.plugin_system.manifest import Manifest

MENU_LABEL = "巡检报告"  # unique on every page, so its presence in the menu is unambiguous
MENU_LABEL_EN = "Inspection reports"


def reports(request: Request) -> Response:
    return HTMLResponse("<!doctype html><title>reports</title><h1>巡检报告列表</h1>")


class Hooks:
    @hookimpl
    def register_routes(self, kernel: Any) -> list[RouteDecl]:
        return [RouteDecl("/", reports, permission="customers.read", name="reports")]

    @hookimpl
    def register_menu_items(self, kernel: Any) -> list[MenuItem]:
        return [MenuItem("browserplug.reports", MENU_LABEL, MENU_LABEL_EN, "/browserplug/",
                         permission="customers.read", order=50)]


def manifest() -> Manifest:
    return Manifest(name="browserplug", version="0.1.0", summary="browser test module",
                    label={"zh_CN": "巡检模块", "en": "Inspection module"}, hooks=Hooks())
