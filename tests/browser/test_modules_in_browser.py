"""An administrator switches a module off and on in the modules page of a real browser and watches
its menu entry go and come back, without a restart."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from browser_support import PASSWORD, add_user, sign_in
from browserplug import MENU_LABEL, manifest

from crm_core.kernel import Kernel
from crm_core.services.roles import seed_builtin_grants


@pytest.fixture
def browser_kernel(make_kernel: Callable[..., Kernel]) -> Kernel:
    """The browser tests' kernel, with the test module installed and on."""
    kernel = make_kernel(plugins=[manifest()], enabled=["browserplug"], scheduler_enabled=False)
    seed_builtin_grants(kernel.ctx())
    return kernel


def menu_labels(page: Any) -> list[str]:
    return [t.strip() for t in page.locator("nav.nav a").all_inner_texts()]


def confirm_password_if_asked(page: Any) -> None:
    """Fill and send the password form when the page asks for it (switching off always does)."""
    field = page.locator("input[name=reauth_password]").first  # the only module here
    if field.count():
        field.fill(PASSWORD)
        field.locator("xpath=ancestor::form").locator("button[type=submit]").click()
        page.wait_for_load_state()


def test_admin_switches_a_module_off_and_on_and_its_menu_entry_follows(
    page: Any, live_server: Any, browser_kernel: Kernel, shot: Any
) -> None:
    add_user(browser_kernel, "admin.wu", "admin", name="吴敏")
    sign_in(page, live_server, "admin.wu")
    assert MENU_LABEL in menu_labels(page)
    page.goto(live_server.url + "/browserplug/")
    assert page.locator("h1").inner_text() == "巡检报告列表"

    page.goto(live_server.url + "/admin/modules")
    row = page.locator("#module-browserplug")
    assert "巡检模块" in row.inner_text() and row.locator(".badge.on").inner_text() == "已启用"
    shot("modules-on")
    row.get_by_role("link", name="停用…").click()
    page.wait_for_url(live_server.url + "/admin/modules/browserplug/disable")
    assert "巡检模块" in page.locator(".plan").inner_text()

    # without the password nothing happens: the page asks for it, in Chinese
    page.locator("input[name=reauth_password]").evaluate("e => e.removeAttribute('required')")
    page.get_by_role("button", name="停用", exact=True).click()
    page.wait_for_load_state()
    assert page.locator(".field.reauth .field-error").inner_text() == "请输入您的密码以确认此修改。"
    assert page.locator("input[name=reauth_password]").get_attribute("aria-invalid") == "true"
    assert browser_kernel.host.is_enabled("browserplug")
    assert MENU_LABEL in menu_labels(page)
    shot("disable-needs-password")

    page.fill("input[name=reauth_password]", PASSWORD)
    page.get_by_role("button", name="停用", exact=True).click()
    page.wait_for_url(re.compile(r"/admin/modules\?disabled=browserplug$"))
    assert "已停用：browserplug" in page.locator("p.notice").inner_text()
    assert page.locator("#module-browserplug .badge.off").inner_text() == "未启用"
    assert MENU_LABEL not in menu_labels(page)  # gone from the menu at once…
    assert not browser_kernel.host.is_enabled("browserplug")
    shot("modules-off")
    response = page.goto(live_server.url + "/browserplug/")
    assert response is not None and response.status == 404  # …and its page with it
    page.goto(live_server.url + "/")
    assert MENU_LABEL not in menu_labels(page)

    page.goto(live_server.url + "/admin/modules")
    row = page.locator("#module-browserplug")
    # a button today; a link to a confirmation page if switching on comes to ask for the password
    row.get_by_role("button", name="启用").or_(row.get_by_role("link", name=re.compile("启用"))).first.click()
    page.wait_for_load_state()
    confirm_password_if_asked(page)  # as the API does (enablePlugin needs it again)
    assert re.search(r"/admin/modules\?enabled=browserplug$", page.url), page.url
    assert page.locator("#module-browserplug .badge.on").inner_text() == "已启用"
    assert MENU_LABEL in menu_labels(page)  # back in the menu
    assert browser_kernel.host.is_enabled("browserplug")
    shot("modules-on-again")
    page.locator("nav.nav").get_by_role("link", name=MENU_LABEL).click()
    page.wait_for_url(live_server.url + "/browserplug/")
    assert page.locator("h1").inner_text() == "巡检报告列表"
