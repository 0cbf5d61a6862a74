"""/admin/fields: per entity (customers, contacts, plugin entities that take custom fields) list,
add and edit, with inline translated errors that keep what was typed."""

from __future__ import annotations

import re
from typing import Any

from crm_core.migrate import enable_plugins
from crm_core.services.custom_fields import list_fields

FIELD = {"entity": "customer", "key": "level", "type": "choice", "label": "客户等级", "label_en": "Level",
         "required": "1", "options": "A\r\nB\r\n\r\nC ", "position": "5", "help_text": "按年采购额",
         "regex": "ignored for a choice", "min_value": "1"}


def test_entities_that_take_custom_fields(admin: Any, pages: Any, web_kernel: Any) -> None:
    tabs = re.findall(r'href="/admin/fields\?entity=([^"]+)"', admin.get("/admin/fields").text)
    assert tabs == ["customer", "contact"]  # follow-ups take none; alpha is off
    assert admin.get("/admin/fields?entity=alpha.thing").status_code == 404
    enable_plugins(web_kernel, ["alpha"])
    page = admin.get("/admin/fields?entity=alpha.thing")
    assert page.status_code == 200 and "阿尔法条目" in page.text
    assert admin.get("/admin/fields?entity=followup").status_code == 404


def test_a_new_field_shows_up_in_the_customer_form_fields(admin: Any, pages: Any, web_kernel: Any) -> None:
    created = admin.submit("/admin/fields", FIELD, page="/admin/fields")
    assert created.status_code == 303
    assert created.headers["location"] == "/admin/fields?entity=customer&done=created"
    [field] = list_fields(web_kernel.ctx(), "customer")  # what the customer form lists
    assert (field.key, field.type, field.label, field.required, field.options, field.position) == (
        "level", "choice", "客户等级", True, ["A", "B", "C"], 5)
    assert (field.regex, field.min_value, field.help_text) == (None, None, "按年采购额")
    row = pages.row(admin.get("/admin/fields").text, "field-level")
    assert row == "5 客户等级 level 按年采购额 单选 是 A / B / C 启用"

    url = f"/admin/fields/{field.id}"
    page = admin.get(url).text
    assert pages.input_value(page, "label") == "客户等级" and ">A\nB\nC</textarea>" in page
    edit = {"label": "等级", "label_en": "Tier", "options": "A\nB", "position": "1", "help_text": "",
            "version": pages.input_value(page, "version")}  # unticked: not required, inactive
    assert admin.submit(url, edit, page=url).status_code == 303
    assert list_fields(web_kernel.ctx(), "customer") == []  # inactive: gone from the forms
    [field] = list_fields(web_kernel.ctx(), "customer", active_only=False)
    assert (field.label, field.label_en, field.required, field.active, field.options) == (
        "等级", "Tier", False, False, ["A", "B"])
    stale = admin.submit(url, {**edit, "label": "x"}, page=url)  # the version it edited is gone
    assert stale.status_code == 422 and "其他人已修改了这条数据" in pages.text(stale.text)
    assert pages.input_value(stale.text, "label") == "x"
    assert admin.get("/admin/fields/999").status_code == 404


def test_field_errors_are_inline_translated_and_keep_the_input(client: Any, pages: Any,
                                                               web_kernel: Any) -> None:
    client.login("admin")
    bad = {"entity": "customer", "key": "1bad", "type": "choice", "label": "", "options": "",
           "position": "first"}
    response = client.submit("/admin/fields", bad, page="/admin/fields")
    assert response.status_code == 422
    assert pages.field_errors(response.text) == ["请输入整数。"]  # the form's own check comes first
    response = client.submit("/admin/fields", {**bad, "position": "0"}, page="/admin/fields")
    errors = pages.field_errors(response.text)
    assert "小写字母、数字和“_”，以字母开头。" in errors and "此项为必填项。" in errors
    assert pages.input_value(response.text, "key") == "1bad"
    text_field = {"entity": "customer", "key": "code", "type": "text", "label": "编码", "regex": "([a-z"}
    response = client.submit("/admin/fields", text_field, page="/admin/fields")
    assert any(e.startswith("不是有效的正则表达式：") for e in pages.field_errors(response.text))
    assert pages.input_value(response.text, "regex") == "([a-z"
    choice = {"entity": "customer", "key": "tier", "type": "choice", "label": "等级", "options": " \n "}
    response = client.submit("/admin/fields", choice, page="/admin/fields")
    assert pages.field_errors(response.text) == ["选择类字段至少需要一个选项。"]
    number = {"entity": "customer", "key": "years", "type": "number", "label": "年限", "min_value": "abc"}
    response = client.submit("/admin/fields", number, page="/admin/fields")
    assert pages.field_errors(response.text) == ["请输入整数。"]
    assert list_fields(web_kernel.ctx(), "customer", active_only=False) == []

    client.submit("/admin/fields", {**number, "min_value": "0"}, page="/admin/fields")
    client.login("en_admin")
    again = client.submit("/admin/fields", {**number, "min_value": "0"}, page="/admin/fields")
    assert pages.field_errors(again.text) == ["There is already a field years."]
    assert "Whole number" in again.text
