"""Export: the permission, the password again (once per download), CSV with a BOM for Excel and
XLSX, the export scope, the current filters, masked phones, no formulas."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import load_workbook
from pages_support import MASKED, PHONE, VISIBLE, XSS_NAME, World

PASSWORD = "correct-horse-battery"


def confirm_export(client: Any) -> None:
    done = client.submit("/reauth", {"action": "customers.export", "password": PASSWORD,
                                     "next": "/customers/export"}, page="/reauth?action=customers.export")
    assert done.status_code == 303


def download(client: Any, fmt: str, **filters: str) -> Any:
    return client.submit("/customers/export", {"format": fmt, **filters}, page="/customers")


def csv_rows(response: Any) -> list[list[str]]:
    assert response.content.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_export_needs_the_permission(world: World, as_user: Any) -> None:
    for login in ("rep1", "viewer", "agent"):
        client = as_user(login)
        assert client.get("/customers/export").status_code == 403, login
        assert download(client, "csv").status_code == 403, login
        assert 'href="/customers/export' not in client.get("/customers").text, login
    assert 'href="/customers/export' in as_user("mkt").get("/customers").text


def test_export_asks_for_the_password_for_each_download(world: World, as_user: Any) -> None:
    mkt = as_user("mkt")
    page = mkt.get("/customers/export?status=won")
    assert page.status_code == 303
    assert page.headers["location"] == ("/reauth?action=customers.export"
                                        "&next=%2Fcustomers%2Fexport%3Fstatus%3Dwon")
    not_yet = download(mkt, "csv")
    assert not_yet.status_code == 303 and not_yet.headers["location"].startswith("/reauth?")
    confirm_export(mkt)
    form = mkt.get("/customers/export?status=won")
    assert form.status_code == 200 and "导出客户" in form.text
    assert '<input type="hidden" name="status" value="won">' in form.text
    first = download(mkt, "csv")
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("text/csv")
    assert 'attachment; filename="customers-' in first.headers["content-disposition"]
    again = download(mkt, "csv")  # the confirmation is used up
    assert again.status_code == 303 and again.headers["location"].startswith("/reauth?")


def test_csv_has_the_visible_columns_masked_phones_and_the_filters(world: World, as_user: Any) -> None:
    mkt = as_user("mkt")
    confirm_export(mkt)
    rows = csv_rows(download(mkt, "csv"))
    header, body = rows[0], rows[1:]
    assert header[:6] == ["客户编号", "客户名称", "类型", "行业", "来源", "状态"]
    assert {r[1] for r in body} == VISIBLE["mkt"]
    xss = next(r for r in body if r[1] == XSS_NAME)
    column = dict(zip(header, xss, strict=True))
    assert column["电话"] == MASKED and PHONE not in first_text(rows)
    assert column["行业"] == "制造业" and column["状态"] == "已成交" and column["负责人"] == "REP1"
    assert column["主要联系人"] == "张伟" and column["邮箱"] == "zhang@example.cn"
    confirm_export(mkt)
    won = csv_rows(download(mkt, "csv", status="won"))
    assert {r[1] for r in won[1:]} == {XSS_NAME, "Rep2 Co"}


def first_text(rows: list[list[str]]) -> str:
    return "\n".join(",".join(r) for r in rows)


def test_export_scope_and_full_phones_for_a_manager(world: World, as_user: Any) -> None:
    mgr = as_user("mgr")
    confirm_export(mgr)
    rows = csv_rows(download(mgr, "csv"))
    assert {r[1] for r in rows[1:]} == VISIBLE["mgr"]
    assert PHONE in first_text(rows)


def test_xlsx_export(world: World, as_user: Any) -> None:
    world.add_customer("admin", "=HYPERLINK(\"http://evil\")", remark="+1+cmd|' /C calc'!A0")
    admin = as_user("admin")
    admin.submit("/-/locale", {"locale": "en", "next": "/"})
    confirm_export(admin)
    response = download(admin, "xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    header = rows[0]
    assert header[:3] == ["Customer ID", "Customer name", "Type"]
    names = {r[1] for r in rows[1:]}
    assert names == VISIBLE["admin"] | {"'=HYPERLINK(\"http://evil\")"}
    evil = next(r for r in rows[1:] if str(r[1]).startswith("'="))
    assert str(evil[header.index("Remark")]).startswith("'+1+cmd")
    xss = next(r for r in rows[1:] if r[1] == XSS_NAME)
    assert xss[header.index("Phone")] == PHONE and xss[header.index("Industry")] == "Manufacturing"
    assert xss[header.index("Created")] is not None and hasattr(xss[header.index("Created")], "year")
