"""Signing in, switching the language and a validation message in Chinese, in a real browser."""

from __future__ import annotations

from typing import Any

from browser_support import PASSWORD, add_user, sign_in


def test_rep_signs_in_and_switches_language_back_and_forth(
    page: Any, live_server: Any, browser_kernel: Any, shot: Any
) -> None:
    add_user(browser_kernel, "li.na", "sales_rep", name="李娜")
    page.goto(live_server.url + "/")
    assert "/login" in page.url  # anonymous visitors are sent to sign in
    shot("login-page")
    sign_in(page, live_server, "li.na")
    assert page.get_by_text("李娜").first.is_visible()
    assert page.locator("html").get_attribute("lang") in ("zh-CN", "zh")
    shot("home-zh")
    page.locator("button[name=locale][value=en]").first.click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    shot("home-en")
    page.locator("button[name=locale][value=zh_CN]").first.click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") in ("zh-CN", "zh")


def test_wrong_password_is_explained_in_chinese(page: Any, live_server: Any, browser_kernel: Any,
                                                shot: Any) -> None:
    add_user(browser_kernel, "wang.fang", "sales_rep")
    page.goto(live_server.url + "/login")
    page.fill("input[name=login]", "wang.fang")
    page.fill("input[name=password]", PASSWORD + "x")
    page.click("form[action=\"/login\"] button[type=submit]")
    page.wait_for_load_state()
    assert "/login" in page.url
    assert page.input_value("input[name=login]") == "wang.fang"  # what was typed is kept
    body = page.locator("body").inner_text()
    assert "密码" in body  # the message is in Chinese
    shot("login-error-zh")
