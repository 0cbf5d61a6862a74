"""The customer 360° page: what each role sees and may do, the follow-up quick entry and
timeline, contacts, deletion with re-authentication, and plugin panels."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from pages_support import MASKED, PHONE, VISIBLE, XSS_NAME, World

from crm_core.db import utcnow
from crm_core.errors import NotFound
from crm_core.services.audit import list_audit
from crm_core.services.contacts import list_contacts
from crm_core.services.customers import get_customer, update_customer
from crm_core.services.followups import create_followup, timeline

PASSWORD = "correct-horse-battery"


def confirm_password(client: Any, action: str) -> None:
    done = client.submit("/reauth", {"action": action, "password": PASSWORD, "next": "/"},
                         page=f"/reauth?action={action}")
    assert done.status_code == 303


def test_each_role_opens_exactly_the_customers_it_may_read(world: World, as_user: Any) -> None:
    for login, names in VISIBLE.items():
        client = as_user(login)
        for name, cid in world.customers.items():
            page = client.get(f"/customers/{cid}")
            if name in names:
                assert page.status_code == 200, (login, name)
                assert "<h1>" + ("&lt;script&gt;" if name == XSS_NAME else name) in page.text
            else:
                assert page.status_code == 404, (login, name)  # no hint that it exists
    assert as_user("admin").get("/customers/99999").status_code == 404


def _buttons(page: str) -> set[str]:
    found = set()
    if re.search(r'href="/customers/\d+/edit"', page):
        found.add("edit")
    if re.search(r'href="/customers/\d+/delete"', page):
        found.add("delete")
    if 'action="/customers/' in page and '/followups"' in page:
        found.add("followup")
    if re.search(r'action="/customers/\d+/contacts"', page):
        found.add("add_contact")
    if re.search(r'/contacts/\d+/delete"', page):
        found.add("remove_contact")
    return found


def test_buttons_follow_the_permissions(world: World, as_user: Any) -> None:
    xss = world.customers[XSS_NAME]
    expected = {
        "admin": {"edit", "delete", "followup", "add_contact", "remove_contact"},
        "mgr": {"edit", "delete", "followup", "add_contact", "remove_contact"},
        "rep1": {"edit", "followup", "add_contact", "remove_contact"},
        "agent": {"followup"},
        "mkt": set(),
        "viewer": set(),
    }
    for login, buttons in expected.items():
        page = as_user(login).get(f"/customers/{xss}").text
        assert _buttons(page) == buttons, login
    # the page's buttons match what the routes allow
    agent = as_user("agent")
    assert agent.get(f"/customers/{xss}/edit").status_code == 403
    assert agent.get(f"/customers/{xss}/delete").status_code == 403
    assert as_user("rep1").get(f"/customers/{xss}/delete").status_code == 403


def test_profile_contacts_and_masked_phones(world: World, as_user: Any) -> None:
    xss = world.customers[XSS_NAME]
    rep1 = as_user("rep1").get(f"/customers/{xss}").text
    assert f'href="tel:{PHONE}"' in rep1 and "zhang@example.cn" in rep1 and "张伟" in rep1
    assert "C 制造业" in rep1 and "转介绍" in rep1 and "已成交" in rep1 and "华东" in rep1
    for login in ("viewer", "mkt"):
        page = as_user(login).get(f"/customers/{xss}").text
        assert MASKED in page and PHONE not in page, login
    english = as_user("admin")
    english.submit("/-/locale", {"locale": "en", "next": "/"})
    page = english.get(f"/customers/{xss}").text
    assert "Manufacturing" in page and "Referral" in page and "Won" in page and "East China" in page


def test_follow_up_in_three_steps(world: World, as_user: Any) -> None:
    """Open the page, type, save: the entry is on the timeline, newest first."""
    rep1 = as_user("rep1")
    cid = world.customers["Rep1 Second"]
    page = f"/customers/{cid}"
    saved = rep1.submit(f"{page}/followups", {"content": "电话沟通了报价，客户很感兴趣",
                                              "method": "phone", "next_step": "发送合同",
                                              "next_step_due": "2030-01-15"}, page=page)
    assert saved.status_code == 303 and saved.headers["location"] == f"{page}?done=followup#followups"
    shown = rep1.get(f"{page}?done=followup").text
    assert "跟进记录已保存" in shown and "电话沟通了报价，客户很感兴趣" in shown and "发送合同" in shown
    assert "截止 2030年1月15日" in shown
    entries = timeline(world.ctx("rep1"), cid).items
    assert len(entries) == 1 and entries[0].next_step_due is not None
    assert get_customer(world.ctx("rep1"), cid).last_followup_at is not None


def test_follow_up_errors_keep_the_input(world: World, as_user: Any) -> None:
    cid = world.customers["Rep1 Second"]
    page = f"/customers/{cid}"
    rep1 = as_user("rep1")
    empty = rep1.submit(f"{page}/followups", {"content": "  ", "next_step": "回访",
                                              "next_step_due": "2030-02-30"}, page=page)
    assert empty.status_code == 422
    assert "此项为必填项" in empty.text and "请按 YYYY-MM-DD 格式输入日期" in empty.text
    assert 'value="回访"' in empty.text and 'value="2030-02-30"' in empty.text
    future = rep1.submit(f"{page}/followups", {"content": "later", "occurred_at": "2099-01-01T10:00"},
                         page=page)
    assert future.status_code == 422 and "不能是将来的时间" in future.text
    en = as_user("admin")
    en.submit("/-/locale", {"locale": "en", "next": "/"})
    english = en.submit(f"{page}/followups", {"content": ""}, page=page)
    assert english.status_code == 422 and "This field is required." in english.text
    assert timeline(world.kernel.ctx(), cid).items == []


def test_timeline_pages_with_more(world: World, as_user: Any) -> None:
    cid = world.customers["Rep1 Second"]
    ctx = world.ctx("rep1")
    start = utcnow() - timedelta(days=30)
    for i in range(23):
        create_followup(ctx, {"customer_id": cid, "content": f"note {i:02d}",
                              "occurred_at": start + timedelta(hours=i)})
    rep1 = as_user("rep1")
    first = rep1.get(f"/customers/{cid}").text
    assert "note 22" in first and "note 03" in first and "note 02" not in first
    more = re.search(r'href="(/customers/\d+\?more=[^"#]+)#followups" rel="next"', first)
    assert more
    older = rep1.get(more.group(1)).text
    assert "note 02" in older and "note 00" in older and "note 22" not in older
    assert 'rel="next"' not in older.split('id="followups"')[1].split("</section>")[0]
    assert rep1.get(f"/customers/{cid}?more=garbage").status_code == 200


def test_contacts_added_edited_made_primary_and_removed(world: World, as_user: Any) -> None:
    cid = world.customers["Rep1 Second"]
    page = f"/customers/{cid}"
    rep1 = as_user("rep1")
    for name, phone in (("王芳", "+86 139-1234-5678"), ("赵磊", "０１０－１２３４５６７８"),
                        ("刘洋", "(0755) 8888 6666")):
        added = rep1.submit(f"{page}/contacts", {"name": name, "phone": phone}, page=page)
        assert added.status_code == 303, added.text
    contacts = {c.name: c for c in list_contacts(world.ctx("rep1"), cid)}
    assert contacts["王芳"].phone == "13912345678" and contacts["王芳"].is_primary
    assert contacts["赵磊"].phone == "01012345678" and contacts["刘洋"].phone == "075588886666"
    bad = rep1.submit(f"{page}/contacts", {"name": "Bad", "phone": "1381234", "email": "not-an-email"},
                      page=page)
    assert bad.status_code == 422
    assert "电话号码无效" in bad.text or "手机号应为 11 位数字" in bad.text
    assert "邮箱地址无效" in bad.text and 'value="not-an-email"' in bad.text
    assert '<details class="add-contact" open>' in bad.text
    short_mobile = rep1.submit(f"{page}/contacts", {"name": "M", "phone": "138123456789"}, page=page)
    assert "手机号应为 11 位数字，以 13–19 开头" in short_mobile.text
    # make another one primary
    zhao = contacts["赵磊"]
    assert rep1.submit(f"{page}/contacts/{zhao.id}/primary", {}, page=page).status_code == 303
    assert {c.name for c in list_contacts(world.ctx("rep1"), cid) if c.is_primary} == {"赵磊"}
    # edit: the form keeps input on errors; a stale version is told apart
    form = rep1.get(f"{page}/contacts/{zhao.id}/edit")
    assert form.status_code == 200 and 'value="01012345678"' in form.text
    version = re.search(r'name="version" value="(\d+)"', form.text)
    assert version
    wrong = rep1.submit(f"{page}/contacts/{zhao.id}/edit",
                        {"name": "赵磊", "email": "zhao@", "version": version.group(1)}, page=page)
    assert wrong.status_code == 422 and "邮箱地址无效" in wrong.text and 'value="zhao@"' in wrong.text
    ok = rep1.submit(f"{page}/contacts/{zhao.id}/edit",
                     {"name": "赵磊", "title": "采购经理", "phone": "01012345678",
                      "version": version.group(1)}, page=page)
    assert ok.status_code == 303
    stale = rep1.submit(f"{page}/contacts/{zhao.id}/edit",
                        {"name": "赵磊磊", "version": version.group(1)}, page=page)
    assert stale.status_code == 409 and "其他人保存了该联系人" in stale.text
    assert 'value="赵磊磊"' in stale.text
    # the unchanged phone was not re-sent: no phone change in the audit trail
    assert [c.title for c in list_contacts(world.ctx("rep1"), cid) if c.id == zhao.id] == ["采购经理"]
    updates = list_audit(world.kernel.ctx(), {"entity": "contact", "entity_id": zhao.id,
                                              "action": "contact.update"}).items
    assert updates and "title" in updates[0].changes and "phone" not in updates[0].changes
    # remove (another customer's contact id under this customer's path is not found)
    other = list_contacts(world.kernel.ctx(), world.customers[XSS_NAME])[0]
    assert rep1.submit(f"{page}/contacts/{other.id}/delete", {}, page=page).status_code == 404
    gone = rep1.submit(f"{page}/contacts/{zhao.id}/delete", {}, page=page)
    assert gone.status_code == 303 and "联系人已移除" in rep1.get(gone.headers["location"]).text
    assert zhao.id not in {c.id for c in list_contacts(world.ctx("rep1"), cid)}


def test_masked_phone_is_kept_when_a_contact_is_edited_by_a_role_that_cannot_see_it(
        world: World, as_user: Any, web_kernel: Any) -> None:
    from crm_core.services.roles import role_grants, set_grants

    grants = role_grants(web_kernel.ctx(), "viewer")
    set_grants(web_kernel.ctx(), "viewer", {**grants, "contacts.update": "all"})
    xss = world.customers[XSS_NAME]
    contact = list_contacts(world.kernel.ctx(), xss)[0]
    viewer = as_user("viewer")
    form = viewer.get(f"/customers/{xss}/contacts/{contact.id}/edit").text
    assert MASKED in form and PHONE not in form and 'name="phone" value=""' in form
    version = re.search(r'name="version" value="(\d+)"', form)
    assert version
    saved = viewer.submit(f"/customers/{xss}/contacts/{contact.id}/edit",
                          {"name": "张伟", "phone": "", "email": "zhang@example.cn",
                           "version": version.group(1)}, page="/")
    assert saved.status_code == 303
    assert list_contacts(world.kernel.ctx(), xss)[0].phone == PHONE


def test_delete_asks_for_the_password_then_confirmation(world: World, as_user: Any) -> None:
    mgr = as_user("mgr")
    cid = world.customers["Rep2 Co"]
    first = mgr.get(f"/customers/{cid}/delete")
    assert first.status_code == 303
    assert first.headers["location"] == f"/reauth?action=customers.delete&next=%2Fcustomers%2F{cid}%2Fdelete"
    # posting without the password again goes to the password form too
    direct = mgr.submit(f"/customers/{cid}/delete", {"version": "1"}, page=f"/customers/{cid}")
    assert direct.status_code == 303
    assert direct.headers["location"].startswith("/reauth?action=customers.delete")
    confirm_password(mgr, "customers.delete")
    page = mgr.get(f"/customers/{cid}/delete")
    assert page.status_code == 200 and "永久删除" in page.text and "Rep2 Co" in page.text
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version
    done = mgr.submit(f"/customers/{cid}/delete", {"version": version.group(1)},
                      page=f"/customers/{cid}/delete")
    assert done.status_code == 303 and done.headers["location"].startswith("/customers?done=deleted&code=C")
    assert "已删除" in mgr.get(done.headers["location"]).text
    try:
        get_customer(world.kernel.ctx(), cid)
        raise AssertionError("not deleted")
    except NotFound:
        pass


def test_delete_of_a_changed_customer_is_refused(world: World, as_user: Any) -> None:
    mgr = as_user("mgr")
    cid = world.customers["Mgr Own"]
    confirm_password(mgr, "customers.delete")
    page = mgr.get(f"/customers/{cid}/delete").text
    update_customer(world.ctx("mgr"), cid, {"remark": "changed meanwhile"})
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version
    refused = mgr.submit(f"/customers/{cid}/delete", {"version": version.group(1)},
                         page=f"/customers/{cid}/delete")
    assert refused.status_code == 409 and "该客户已被修改" in refused.text
    assert get_customer(world.kernel.ctx(), cid).remark == "changed meanwhile"


def test_forms_of_the_page_need_the_csrf_token(world: World, as_user: Any) -> None:
    cid = world.customers["Rep1 Second"]
    rep1 = as_user("rep1")
    assert rep1.post(f"/customers/{cid}/followups", data={"content": "x"}).status_code == 403
    assert rep1.post(f"/customers/{cid}/contacts", data={"name": "x"}).status_code == 403
    assert rep1.post(f"/customers/{cid}/edit", data={"name": "x"}).status_code == 403
    assert timeline(world.kernel.ctx(), cid).items == []


def test_plugin_panel_only_while_its_plugin_is_enabled(world: World, as_user: Any, web_kernel: Any) -> None:
    cid = world.customers["Rep1 Second"]
    code = get_customer(world.kernel.ctx(), cid).code
    rep1 = as_user("rep1")
    page = rep1.get(f"/customers/{cid}").text
    assert 'id="panel-panelplug-orders"' in page and f'<p class="panelplug">orders of {code}</p>' in page
    web_kernel.host.set_enabled(["panelplug"], False)
    assert "panelplug" not in rep1.get(f"/customers/{cid}").text
    web_kernel.host.set_enabled(["panelplug"], True)  # no restart
    assert 'id="panel-panelplug-orders"' in rep1.get(f"/customers/{cid}").text
