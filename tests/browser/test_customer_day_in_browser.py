"""A sales rep's day in a real browser: a new customer with a contact, a follow-up through the
quick entry, seen on the timeline; and a refused form explained in Chinese, input kept."""

from __future__ import annotations

import re
from typing import Any

from browser_support import add_user, sign_in
from sqlalchemy import select

from crm_core.models import Contact, Customer, FollowUp, User


def test_rep_creates_a_customer_with_a_contact_and_logs_a_follow_up(
    page: Any, live_server: Any, browser_kernel: Any, shot: Any
) -> None:
    add_user(browser_kernel, "zhao.lei", "sales_rep", name="赵磊")
    sign_in(page, live_server, "zhao.lei")

    page.goto(live_server.url + "/customers/new")
    assert page.locator("h1").inner_text() == "新建客户"
    page.fill("input[name=name]", "杭州云帆科技有限公司")
    page.select_option("select[name=type]", "enterprise")
    page.fill("input[name=contact_name]", "陈静")
    page.fill("input[name=contact_title]", "采购经理")
    page.fill("input[name=contact_phone]", "138 0013 8000")
    page.fill("input[name=contact_email]", "chen.jing@yunfan.example.com")
    shot("new-customer-filled")
    page.get_by_role("button", name="创建客户").click()
    page.wait_for_url(re.compile(r"/customers/\d+(\?.*)?$"))
    customer_id = int(re.search(r"/customers/(\d+)", page.url).group(1))  # type: ignore[union-attr]
    assert page.locator("h1").first.inner_text().strip().startswith("杭州云帆科技有限公司")
    contacts = page.locator("#contacts")
    assert "陈静" in contacts.inner_text() and "采购经理" in contacts.inner_text()
    assert "主要" in contacts.locator(".badge.primary").inner_text()  # the form's contact is primary
    assert "暂无跟进" in page.locator("ol.timeline").inner_text()
    shot("customer-created")

    # the quick entry: say what happened, pick the contact, save — three steps
    page.fill(".quick-entry textarea[name=content]", "电话沟通了二期采购需求，对方希望下周看报价。")
    page.select_option(".quick-entry select[name=contact_id]", label="陈静")
    page.get_by_role("button", name="保存跟进").click()
    page.wait_for_url(re.compile(rf"/customers/{customer_id}(\?.*)?(#.*)?$"))
    entry = page.locator("ol.timeline li.entry").first
    assert "电话沟通了二期采购需求" in entry.inner_text()
    assert "→ 陈静" in entry.inner_text() and "赵磊" in entry.inner_text()
    assert entry.locator(".badge").inner_text() == "电话"
    shot("follow-up-on-timeline")

    with browser_kernel.new_session() as s:  # and it is really stored, owned by the rep
        customer = s.get(Customer, customer_id)
        rep_id = s.scalar(select(User.id).where(User.login == "zhao.lei"))
        assert customer is not None and customer.owner_id == rep_id
        contact = s.scalars(select(Contact).where(Contact.customer_id == customer_id)).one()
        assert (contact.name, contact.title, contact.is_primary) == ("陈静", "采购经理", True)
        followup = s.scalars(select(FollowUp).where(FollowUp.customer_id == customer_id)).one()
        assert (followup.contact_id, followup.user_id, followup.method) == (contact.id, rep_id, "phone")


def test_an_invalid_phone_is_explained_in_chinese_and_the_input_is_kept(
    page: Any, live_server: Any, browser_kernel: Any, shot: Any
) -> None:
    add_user(browser_kernel, "sun.li", "sales_rep", name="孙丽")
    sign_in(page, live_server, "sun.li")
    page.goto(live_server.url + "/customers/new")
    page.fill("input[name=name]", "苏州恒通机械厂")
    page.select_option("select[name=region]", "华东")
    page.fill("input[name=contact_name]", "刘洋")
    page.fill("input[name=contact_phone]", "12345")
    page.fill("textarea[name=remark]", "展会上认识，对数控机床感兴趣")
    page.get_by_role("button", name="创建客户").click()
    page.wait_for_load_state()

    assert page.url.endswith("/customers/new")  # not created: the form comes back
    assert "请修改标出的字段。" in page.locator("p.alert").inner_text()
    phone = page.locator("input[name=contact_phone]")
    assert phone.get_attribute("aria-invalid") == "true"
    error = page.locator("label:has(input[name=contact_phone]) .field-error").inner_text()
    assert error == "手机号应为 11 位数字，以 13–19 开头。"  # in Chinese, naming the problem
    assert page.locator("input[name=name]").get_attribute("aria-invalid") is None
    # what was typed is all still there
    assert page.input_value("input[name=name]") == "苏州恒通机械厂"
    assert page.input_value("input[name=contact_name]") == "刘洋"
    assert phone.input_value() == "12345"
    assert page.input_value("select[name=region]") == "华东"
    assert page.input_value("textarea[name=remark]") == "展会上认识，对数控机床感兴趣"
    shot("invalid-phone-zh")
    with browser_kernel.new_session() as s:
        assert s.scalars(select(Customer).where(Customer.name == "苏州恒通机械厂")).first() is None

    # corrected, the same form goes through
    phone.fill("13912345678")
    page.get_by_role("button", name="创建客户").click()
    page.wait_for_url(re.compile(r"/customers/\d+(\?.*)?$"))
    assert "刘洋" in page.locator("#contacts").inner_text()
