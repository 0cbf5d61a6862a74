"""Plugins on the web: routes, static files, templates, menu and widgets follow the enabled state."""

from __future__ import annotations

import re
from typing import Any


def menu_keys(html: str) -> list[str]:
    """The test plugin's menu entries (the kernel adds its own, e.g. the admin pages)."""
    return [k for k in re.findall(r'data-key="([^"]+)"', html) if k.startswith("webplug.")]


def test_disabled_plugin_answers_404_and_comes_back(client: Any, web_kernel: Any) -> None:
    client.login("admin")
    paths = ["/webplug/", "/api/v1/webplug/items", "/static/webplug/webplug.css", "/webplug/open"]
    assert [client.get(p).status_code for p in paths] == [200, 200, 200, 200]
    assert "webplug.page" in menu_keys(client.get("/").text)

    web_kernel.host.set_enabled(["webplug"], False)
    responses = [client.get(p) for p in paths]
    assert [r.status_code for r in responses] == [404, 404, 404, 404]
    assert responses[1].json()["type"].endswith("/not-found")
    assert "页面不存在" in responses[0].text
    home = client.get("/").text
    assert menu_keys(home) == [] and "widget-first" not in home
    post = client.post("/api/v1/webplug/items", json={}, headers={"X-CSRF-Token": client.csrf("/")})
    assert post.status_code == 404

    web_kernel.host.set_enabled(["webplug"], True)  # no restart
    assert [client.get(p).status_code for p in paths] == [200, 200, 200, 200]
    assert "widget-first" in client.get("/").text


def test_anonymous_on_a_disabled_plugin_gets_404_not_a_login(client: Any, web_kernel: Any) -> None:
    web_kernel.host.set_enabled(["webplug"], False)
    assert client.get("/webplug/").status_code == 404


def test_menu_shows_only_permitted_items(client: Any) -> None:
    client.login("admin")
    assert menu_keys(client.get("/").text) == ["webplug.notices", "webplug.page", "webplug.admin"]
    client.login("rep")
    assert menu_keys(client.get("/").text) == ["webplug.notices", "webplug.page"]
    client.login("viewer")
    assert menu_keys(client.get("/").text) == ["webplug.notices"]


def test_menu_labels_follow_the_language_and_mark_the_current_page(client: Any) -> None:
    client.login("en_user")
    html = client.get("/webplug/").text
    assert "Plugin page" in html and "插件页面" not in html
    assert re.search(r'href="/webplug/" data-key="webplug.page" aria-current="page"', html)


def test_dashboard_widgets_in_order_with_plugin_templates(client: Any) -> None:
    client.login("rep")
    html = client.get("/").text
    assert html.index('id="widget-first"') < html.index('id="widget-second"')
    assert '<p class="widget-login">欢迎，rep</p>' in html  # rendered by the plugin's template
    assert "<p>two</p>" in html


def test_plugin_pages_use_their_templates_in_the_core_layout(client: Any) -> None:
    client.login("rep")
    html = client.get("/webplug/").text
    assert '<h1 class="webplug">Webplug</h1>' in html and 'class="topbar"' in html


def test_plugins_json_for_admins(client: Any) -> None:
    assert client.get("/-/plugins.json").status_code == 401  # JSON route: problem, not a redirect
    client.login("rep")
    assert client.get("/-/plugins.json").status_code == 403
    client.login("admin")
    body = client.get("/-/plugins.json").json()
    assert body == {"plugins": [{"name": "webplug", "version": "1.2.3", "enabled": True,
                                 "status": "loaded", "error": None}]}


def test_static_files(client: Any) -> None:
    css = client.get("/static/crm.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert client.get("/static/../web/app.py").status_code == 404
    assert client.get("/static/webplug/../../conftest.py").status_code == 404
