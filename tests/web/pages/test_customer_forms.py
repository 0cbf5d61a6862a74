"""New and edit customer forms: translated inline messages per locale, input kept, custom
fields, any Chinese phone format, stale edits."""

from __future__ import annotations

import re
from typing import Any

from pages_support import World

from crm_core.services.contacts import list_contacts
from crm_core.services.custom_fields import create_field
from crm_core.services.customers import get_customer, list_customers, update_customer


def _error_after(page: str, name: str) -> str:
    """The error messages shown in the label of input ``name``."""
    start = page.index(f'name="{name}"')
    end = page.index("</label>", start)
    return " ".join(re.findall(r'<span class="field-error" role="alert">([^<]*)</span>', page[start:end]))


def test_new_customer_with_a_contact_in_any_phone_format(world: World, as_user: Any) -> None:
    rep1 = as_user("rep1")
    form = rep1.get("/customers/new")
    assert form.status_code == 200 and "新建客户" in form.text
    created = rep1.submit("/customers/new", {
        "name": "  深圳市　前海科技有限公司 ", "type": "enterprise", "status": "potential",
        "industry": "I", "source": "website", "region": "华南", "first_contact_date": "2026-05-01",
        "contact_name": "陈静", "contact_title": "总经理", "contact_phone": "+86 (138) 0013-8000",
        "contact_email": "Chen.Jing@Example.COM",
    }, page="/customers/new")
    assert created.status_code == 303, created.text
    cid = int(created.headers["location"].split("/")[2].split("?")[0])
    page = rep1.get(created.headers["location"]).text
    assert "客户已创建" in page and "深圳市 前海科技有限公司" in page
    customer = get_customer(world.ctx("rep1"), cid)
    assert customer.owner_id == world.users["rep1"] and customer.region == "华南"
    (contact,) = list_contacts(world.ctx("rep1"), cid)
    assert contact.phone == "13800138000" and contact.email == "chen.jing@example.com"
    assert contact.is_primary and contact.title == "总经理"


def test_invalid_input_is_marked_in_chinese_and_kept(world: World, as_user: Any) -> None:
    rep1 = as_user("rep1")
    before = len(list_customers(world.ctx("rep1")).items)
    data = {"name": "", "type": "enterprise", "status": "potential", "first_contact_date": "2026-02-31",
            "id_number": "110101199003071234", "contact_name": "", "contact_phone": "123",
            "contact_email": "a@b", "address": "上海市<浦东>"}
    page = rep1.submit("/customers/new", data, page="/customers/new")
    assert page.status_code == 422
    html = page.text
    assert "请修改标出的字段" in html
    assert _error_after(html, "name") == "此项为必填项。"
    assert _error_after(html, "first_contact_date") == "请按 YYYY-MM-DD 格式输入日期。"
    assert _error_after(html, "id_number") == "身份证号校验位不正确。"
    assert _error_after(html, "contact_name") == "此项为必填项。"
    assert _error_after(html, "contact_phone") == "电话号码无效。"
    assert _error_after(html, "contact_email") == "邮箱地址无效。"
    for value in ('value="2026-02-31"', 'value="110101199003071234"', 'value="123"', 'value="a@b"',
                  'value="上海市&lt;浦东&gt;"'):
        assert value in html, value
    assert len(list_customers(world.ctx("rep1")).items) == before


def test_messages_follow_the_users_language(world: World, as_user: Any) -> None:
    en = as_user("en_rep")
    page = en.submit("/customers/new", {"name": "Acme", "contact_name": "Bob",
                                        "contact_phone": "phone: 139"}, page="/customers/new")
    assert page.status_code == 422
    assert "Please correct the marked fields." in page.text
    assert _error_after(page.text, "contact_phone") == (
        "A phone number may only contain digits, spaces, dashes, brackets and +86.")
    assert 'value="Acme"' in page.text and 'value="Bob"' in page.text
    long_mobile = en.submit("/customers/new", {"name": "Acme", "contact_name": "Bob",
                                               "contact_phone": "139 1234 56789"}, page="/customers/new")
    assert _error_after(long_mobile.text, "contact_phone") == (
        "A mobile number has 11 digits and starts with 13–19.")
    zh = as_user("rep1").submit("/customers/new", {"name": "Acme", "contact_name": "Bob",
                                                   "contact_phone": "139 1234 56789"}, page="/customers/new")
    assert _error_after(zh.text, "contact_phone") == "手机号应为 11 位数字，以 13–19 开头。"


def test_custom_fields_on_the_forms(world: World, as_user: Any) -> None:
    system = world.kernel.ctx()
    create_field(system, {"entity": "customer", "key": "years", "label": "合作年限", "label_en": "Years",
                          "type": "number", "min_value": "0", "max_value": "50", "required": True})
    create_field(system, {"entity": "customer", "key": "level", "label": "等级", "type": "choice",
                          "options": ["A", "B"]})
    create_field(system, {"entity": "customer", "key": "needs", "label": "需求", "type": "multi_choice",
                          "options": ["ERP", "CRM", "BI"]})
    create_field(system, {"entity": "customer", "key": "vip", "label": "重点", "type": "boolean"})
    rep1 = as_user("rep1")
    assert "合作年限" in rep1.get("/customers/new").text
    bad = rep1.submit("/customers/new", {"name": "Custom Co", "cf_years": "70", "cf_level": "A",
                                         "cf_needs": ["CRM", "BI"]}, page="/customers/new")
    assert bad.status_code == 422 and _error_after(bad.text, "cf_years") == "不能大于 50。"
    assert re.search(r'value="CRM" checked', bad.text) and re.search(r'value="A" selected', bad.text)
    missing = rep1.submit("/customers/new", {"name": "Custom Co"}, page="/customers/new")
    assert _error_after(missing.text, "cf_years") == "此项为必填项。"
    words = rep1.submit("/customers/new", {"name": "Custom Co", "cf_years": "ten"}, page="/customers/new")
    assert _error_after(words.text, "cf_years") == "请输入整数。"
    ok = rep1.submit("/customers/new", {"name": "Custom Co", "cf_years": "3", "cf_level": "B",
                                        "cf_needs": ["ERP", "BI"], "cf_vip": "true"}, page="/customers/new")
    assert ok.status_code == 303
    cid = int(ok.headers["location"].split("/")[2].split("?")[0])
    assert get_customer(world.ctx("rep1"), cid).custom == {"years": 3, "level": "B", "needs": ["ERP", "BI"],
                                                           "vip": True}
    page = rep1.get(f"/customers/{cid}").text
    assert "合作年限" in page and "ERP, BI" in page and "<dd>是</dd>" in page
    # editing clears a value left empty, keeps the rest
    form = rep1.get(f"/customers/{cid}/edit").text
    assert 'value="ERP" checked' in form and 'value="true" selected' in form
    version = re.search(r'name="version" value="(\d+)"', form)
    assert version
    saved = rep1.submit(f"/customers/{cid}/edit", {"name": "Custom Co", "type": "enterprise",
                                                  "status": "won", "cf_years": "4", "cf_level": "",
                                                  "cf_needs": "CRM", "cf_vip": "false",
                                                  "version": version.group(1)}, page="/")
    assert saved.status_code == 303
    assert get_customer(world.ctx("rep1"), cid).custom == {"years": 4, "needs": ["CRM"], "vip": False}


def test_edit_keeps_input_and_tells_a_stale_version(world: World, as_user: Any) -> None:
    rep1 = as_user("rep1")
    cid = world.customers["Rep1 Second"]
    form = rep1.get(f"/customers/{cid}/edit").text
    assert 'value="Rep1 Second"' in form and "编辑客户" in form
    version = re.search(r'name="version" value="(\d+)"', form)
    assert version
    empty = rep1.submit(f"/customers/{cid}/edit", {"name": "", "type": "enterprise", "status": "won",
                                                   "version": version.group(1)}, page="/")
    assert empty.status_code == 422 and _error_after(empty.text, "name") == "此项为必填项。"
    assert re.search(r'<option value="won" selected>', empty.text)
    # someone else saves in between
    update_customer(world.ctx("mgr"), cid, {"status": "churned", "remark": "经理备注"})
    stale = rep1.submit(f"/customers/{cid}/edit", {"name": "Rep1 Second Renamed", "type": "enterprise",
                                                   "status": "won", "remark": "我的备注",
                                                   "version": version.group(1)}, page="/")
    assert stale.status_code == 409
    assert "其他人保存了该客户" in stale.text
    assert 'value="Rep1 Second Renamed"' in stale.text and "我的备注</textarea>" in stale.text
    assert "经理备注" in stale.text and "已流失" in stale.text  # what was saved meanwhile
    assert get_customer(world.kernel.ctx(), cid).name == "Rep1 Second"
    new_version = re.search(r'name="version" value="(\d+)"', stale.text)
    assert new_version and new_version.group(1) != version.group(1)
    again = rep1.submit(f"/customers/{cid}/edit", {"name": "Rep1 Second Renamed", "type": "enterprise",
                                                   "status": "won", "remark": "我的备注",
                                                   "version": new_version.group(1)}, page="/")
    assert again.status_code == 303 and "修改已保存" in rep1.get(again.headers["location"]).text
    saved = get_customer(world.kernel.ctx(), cid)
    assert (saved.name, saved.status, saved.remark) == ("Rep1 Second Renamed", "won", "我的备注")


def test_forms_need_their_permission(world: World, as_user: Any) -> None:
    viewer = as_user("viewer")
    assert viewer.get("/customers/new").status_code == 403
    assert viewer.submit("/customers/new", {"name": "x"}, page="/").status_code == 403
    cid = world.customers["Rep2 Co"]
    assert viewer.get(f"/customers/{cid}/edit").status_code == 403
    assert as_user("rep1").get(f"/customers/{cid}/edit").status_code == 404  # not theirs: unseen
    assert "新建客户" not in viewer.get("/customers").text
    assert "新建客户" in as_user("rep1").get("/customers").text


def test_id_number_is_not_shown_or_resent_for_roles_that_may_not_see_it(world: World, as_user: Any) -> None:
    cid = world.customers["Mgr Own"]
    update_customer(world.ctx("mgr"), cid, {"id_number": "11010519491231002X"})
    mgr = as_user("mgr")  # sales managers may see ID numbers
    assert 'value="11010519491231002X"' in mgr.get(f"/customers/{cid}/edit").text
    admin_page = as_user("viewer").get(f"/customers/{cid}").text
    assert "11010519491231002X" not in admin_page and "110***********002X" in admin_page
