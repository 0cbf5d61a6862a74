"""/admin/modules: every installed plugin; switching on takes dependencies along, switching off
explains and asks for the password; the menu follows on the next request, without a restart."""

from __future__ import annotations

from typing import Any

from crm_core.models import AuditEntry


def module_keys(pages: Any, client: Any) -> list[str]:
    return [k for k in pages.menu_keys(client.get("/").text) if k.split(".")[0] in ("alpha", "beta")]


def test_the_list_shows_every_module(admin: Any, pages: Any) -> None:
    response = admin.get("/admin/modules")
    html = response.text
    row = html[html.index('id="module-beta"'):html.index('id="module-broken"')]
    page = pages.text(row)
    assert "贝塔模块" in page and "Needs alpha" in page and "2.1.0" in page and "成长期" in page
    assert "alpha" in page and "未启用" in page and "将同时启用：alpha" in page  # what comes along
    alpha = pages.text(html[html.index('id="module-alpha"'):html.index('id="module-beta"')])
    assert "beta" in alpha  # needed by
    broken = pages.text(html[html.index('id="module-broken"'):html.index('id="module-webplug"')])
    assert "加载失败" in broken and "requires core >=99" in broken
    assert 'href="/admin/modules/broken/enable"' not in html and 'href="/admin/modules/beta/enable"' in html
    assert "已启用" in pages.text(html[html.index('id="module-webplug"'):])


def test_switching_on_takes_dependencies_along_and_the_menu_follows(admin: Any, pages: Any,
                                                                   web_kernel: Any) -> None:
    assert module_keys(pages, admin) == []
    assert admin.get("/alpha/").status_code == 404
    confirm = admin.get("/admin/modules/beta/enable")
    assert "将启用： 阿尔法模块 alpha 贝塔模块 beta" in pages.text(confirm.text)
    assert 'name="reauth_password"' in confirm.text
    url = "/admin/modules/beta/enable"
    no_password = admin.submit(url, {}, page=url)  # switching on migrates tables: password again
    assert no_password.status_code == 422
    assert pages.field_errors(no_password.text) == ["请输入您的密码以确认此修改。"]
    assert module_keys(pages, admin) == []
    assert web_kernel.host.enabled(refresh=True).isdisjoint({"alpha", "beta"})
    response = enable(admin, pages, "beta")
    assert response.status_code == 303 and response.headers["location"] == "/admin/modules?enabled=alpha,beta"
    assert "已启用：alpha, beta" in pages.text(admin.get(response.headers["location"]).text)
    assert module_keys(pages, admin) == ["alpha.home", "beta.home"]  # the next request, no restart
    assert admin.get("/alpha/").status_code == 200 and admin.get("/beta/").status_code == 200
    [entry] = [e for e in admin_audit(web_kernel) if e.action == "plugin.enable" and e.actor_login == "admin"]
    assert entry.interface == "web" and entry.changes == {"alpha": [False, True], "beta": [False, True]}


def enable(admin: Any, pages: Any, name: str, page: str | None = None) -> Any:
    """Switch a module on from its confirmation page, with the password."""
    url = f"/admin/modules/{name}/enable"
    return admin.submit(url, {"reauth_password": pages.PASSWORD}, page=page or url)


def admin_audit(kernel: Any) -> list[AuditEntry]:
    with kernel.new_session() as s:
        return list(s.query(AuditEntry).order_by(AuditEntry.id))


def test_switching_off_is_explained_refused_without_cascade_and_needs_the_password(
        admin: Any, pages: Any, web_kernel: Any) -> None:
    enable(admin, pages, "beta")
    form = admin.get("/admin/modules/alpha/disable")
    page = pages.text(form.text)
    assert form.status_code == 200
    assert "以下已启用的模块依赖 阿尔法模块：beta" in page
    assert "将停用： 贝塔模块 beta 阿尔法模块 alpha" in page and "数据保留" in page
    assert 'name="cascade"' in form.text and 'name="reauth_password"' in form.text

    url = "/admin/modules/alpha/disable"
    no_password = admin.submit(url, {"cascade": "1"}, page=url)
    assert no_password.status_code == 422
    assert pages.field_errors(no_password.text) == ["请输入您的密码以确认此修改。"]
    wrong = admin.submit(url, {"cascade": "1", "reauth_password": "not-my-password"}, page=url)
    assert wrong.status_code == 422 and pages.field_errors(wrong.text) == ["密码错误。"]
    no_cascade = admin.submit(url, {"reauth_password": pages.PASSWORD}, page=url)
    assert no_cascade.status_code == 422
    assert "有依赖它的模块已启用" in pages.text(no_cascade.text)
    assert web_kernel.host.enabled(refresh=True) >= {"alpha", "beta"}
    assert module_keys(pages, admin) == ["alpha.home", "beta.home"]

    done = admin.submit(url, {"cascade": "1", "reauth_password": pages.PASSWORD}, page=url)
    assert done.status_code == 303 and done.headers["location"] == "/admin/modules?disabled=beta,alpha"
    assert module_keys(pages, admin) == []
    assert admin.get("/alpha/").status_code == 404 and admin.get("/beta/").status_code == 404
    entry = [e for e in admin_audit(web_kernel) if e.action == "plugin.disable"][-1]
    assert entry.actor_login == "admin" and entry.summary == "beta, alpha"

    enable(admin, pages, "alpha")  # data and menu come back
    assert module_keys(pages, admin) == ["alpha.home"]


def test_a_module_without_dependents_goes_off_after_a_confirmation_on_reauth(
        admin: Any, pages: Any) -> None:
    enable(admin, pages, "alpha")
    page = admin.get("/admin/modules/alpha/disable").text
    assert 'name="cascade"' not in page and "以下已启用的模块依赖" not in pages.text(page)
    confirmed = admin.submit("/reauth", {"action": "plugins.manage", "password": pages.PASSWORD,
                                         "next": "/admin/modules/alpha/disable"},
                             page="/reauth?action=plugins.manage")
    assert confirmed.status_code == 303
    done = admin.submit("/admin/modules/alpha/disable", {}, page="/admin/modules/alpha/disable")
    assert done.status_code == 303 and done.headers["location"] == "/admin/modules?disabled=alpha"
    assert module_keys(pages, admin) == []


def test_a_failed_or_unknown_module_cannot_be_switched_on(admin: Any, pages: Any) -> None:
    assert admin.get("/admin/modules/broken/enable").status_code == 409
    response = enable(admin, pages, "broken", page="/admin/modules/broken")
    assert response.status_code == 409
    assert "requires core >=99" in pages.text(response.text)
    assert enable(admin, pages, "ghost", page="/admin/modules").status_code == 404
    assert admin.get("/admin/modules/ghost/enable").status_code == 404
    assert admin.get("/admin/modules/ghost/disable").status_code == 404


def test_an_already_disabled_module_says_so(admin: Any, pages: Any) -> None:
    assert "该模块已经停用" in pages.text(admin.get("/admin/modules/alpha/disable").text)
    enable(admin, pages, "alpha")
    assert "该模块已经启用" in pages.text(admin.get("/admin/modules/alpha/enable").text)
