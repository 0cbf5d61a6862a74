"""Each admin page is guarded by its own permission and shown in the menu only to its holders."""

from __future__ import annotations

from typing import Any

import pytest

from crm_core.web.routing import AUTHENTICATED


@pytest.mark.parametrize("login", ["rep", "viewer"])
def test_admin_pages_are_closed_and_hidden_for_other_roles(client: Any, pages: Any, login: str) -> None:
    client.login(login)
    for path in ["/admin", *pages.ADMIN_PAGES, "/admin/users/admin", "/admin/users/admin/access",
                 "/admin/roles/admin", "/admin/modules/webplug/disable"]:
        response = client.get(path)
        assert response.status_code == 403, path
        assert "无权操作" in response.text
    assert not [k for k in pages.menu_keys(client.get("/").text) if k.startswith("admin.")]
    token = client.csrf("/")
    for path, data in [("/admin/users", {"login": "mallory", "password": "x" * 10}),
                       ("/admin/modules/webplug/disable", {"reauth_password": pages.PASSWORD}),
                       ("/admin/modules/alpha/enable", {}), ("/admin/roles/viewer", {}),
                       ("/admin/teams", {"name": "x"}), ("/admin/fields", {"entity": "customer"})]:
        assert client.post(path, data={**data, "csrf_token": token}).status_code == 403, path


def test_a_sales_manager_sees_only_the_audit_log(client: Any, pages: Any) -> None:
    client.login("mgr")
    assert [k for k in pages.menu_keys(client.get("/").text) if k.startswith("admin.")] == ["admin.audit"]
    assert client.get("/admin/audit").status_code == 200
    for path in pages.ADMIN_PAGES[:-1]:
        assert client.get(path).status_code == 403, path
    index = client.get("/admin")
    assert index.status_code == 200
    assert 'href="/admin/audit"' in index.text and 'href="/admin/users"' not in index.text


def test_an_admin_sees_every_page_in_the_menu(admin: Any, pages: Any) -> None:
    assert [k for k in pages.menu_keys(admin.get("/").text) if k.startswith("admin.")] == pages.ADMIN_MENU
    for path in ["/admin", *pages.ADMIN_PAGES]:
        response = admin.get(path)
        assert response.status_code == 200, path
        assert f'href="{path}" aria-current="page"' in response.text or path == "/admin"
    assert 'href="/admin/users" data-key="admin.users" aria-current="page"' in admin.get(
        "/admin/users/rep/access").text


def test_every_admin_route_names_its_permission(site: Any) -> None:
    routes = [r for r in site.app.state.route_inventory if r.path.startswith("/admin")]
    assert len(routes) >= 25
    assert [r.path for r in routes if r.permission == AUTHENTICATED] == ["/admin"]  # lists what you hold
    assert {r.permission for r in routes} - {AUTHENTICATED} == {
        "plugins.manage", "users.manage", "teams.manage", "roles.manage", "custom_fields.manage",
        "audit.read"}


def test_admin_pages_speak_the_admins_language(client: Any, pages: Any) -> None:
    client.login("en_admin")
    page = pages.text(client.get("/admin/modules").text)
    assert "Every installed module" in page and "Switch on" in page and "模块" not in page
    assert "Alpha module" in page
    client.login("admin")
    page = pages.text(client.get("/admin/modules").text)
    assert "所有已安装的模块" in page and "阿尔法模块" in page
