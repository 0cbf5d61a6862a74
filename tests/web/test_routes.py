"""Every route declares who may use it, and anonymous requests never get through."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from crm_core.web import AUTHENTICATED, PUBLIC, route
from crm_core.web.routing import RouteInfo, inventory

# Routes meant to be open to anyone; a new public route must be added here on purpose.
EXPECTED_PUBLIC = {
    ("/login", "GET"), ("/login", "POST"), ("/-/locale", "POST"), ("/-/health", "GET"),
    ("/static/{path}", "GET"), ("/webplug/open", "GET"),
}


def concrete(path: str) -> str:
    return re.sub(r"\{[^}:]+(:int)?\}", lambda m: "1" if m.group(1) else "x", path)


def test_every_route_declares_a_permission(site: Any) -> None:
    routes: list[RouteInfo] = site.app.state.route_inventory
    assert routes, "the inventory is empty"
    undeclared = [r.path for r in routes if not r.permission]
    assert undeclared == []
    public = {(r.path, m) for r in routes if r.permission == PUBLIC for m in r.methods if m != "HEAD"}
    assert public == EXPECTED_PUBLIC
    paths = {r.path for r in routes}
    assert {"/", "/login", "/logout", "/reauth", "/-/plugins.json", "/api/v1/me",
            "/webplug/", "/api/v1/webplug/items"} <= paths


def test_inventory_flags_a_route_built_without_the_builder(site: Any) -> None:
    plain = Route("/sneaky", lambda r: PlainTextResponse("hi"))
    infos = inventory([*site.app.routes, plain])
    assert infos[-1] == RouteInfo("/sneaky", ("GET", "HEAD"), "")


def test_route_builder_demands_a_declaration() -> None:
    def endpoint(request: Any) -> Any:
        return None

    with pytest.raises(ValueError, match="declare permission"):
        route("/x", endpoint)
    with pytest.raises(ValueError, match="contradict"):
        route("/x", endpoint, permission="customers.read", public=True)
    assert route("/x", endpoint, permission=AUTHENTICATED).info.permission == AUTHENTICATED
    assert route("/api/v1/x", endpoint, public=True).info.api is True


def test_anonymous_requests_to_every_protected_route(site: Any) -> None:
    client = site.client()
    checked = 0
    for info in site.app.state.route_inventory:
        if info.permission == PUBLIC:
            continue
        path = concrete(info.path)
        for method in info.methods:
            if method == "HEAD":
                continue
            response = client.request(method, path)
            if info.api:
                assert response.status_code == 401, (method, path)
                assert response.headers["content-type"] == "application/problem+json"
                assert response.json()["type"].endswith("/unauthenticated")
            else:
                assert response.status_code == 303, (method, path)
                assert response.headers["location"].startswith("/login?next="), (method, path)
            checked += 1
    assert checked >= 10


def test_missing_permission_is_403(client: Any) -> None:
    client.login("viewer")
    page = client.get("/webplug/")
    assert page.status_code == 403 and "无权操作" in page.text
    api = client.get("/api/v1/webplug/items")
    assert api.status_code == 403 and api.json()["type"].endswith("/permission-denied")
    assert client.get("/-/plugins.json").status_code == 403


def test_plugin_route_without_a_permission_needs_a_signed_in_user(client: Any) -> None:
    assert client.get("/webplug/members").status_code == 303
    assert client.get("/webplug/open").status_code == 200
    client.login("viewer")
    assert client.get("/webplug/members").status_code == 200
