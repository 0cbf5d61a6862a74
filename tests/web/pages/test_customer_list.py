"""The customer list: exactly the rows each role may see, masked phones, search, filters, sort,
keyset paging, saved filters per user, bulk reassignment within scope, CSRF, escaping."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pages_support import MASKED, PHONE, VISIBLE, XSS_NAME, World, listed

from crm_core.services.custom_fields import create_field
from crm_core.services.customers import get_customer


def test_each_role_lists_exactly_the_customers_it_may_read(world: World, as_user: Any) -> None:
    for login, names in VISIBLE.items():
        page = as_user(login).get("/customers")
        assert page.status_code == 200, login
        assert listed(page.text) == {world.customers[n] for n in names}, login
        assert f"共 {len(names)} 个客户" in page.text or login == "en_rep", login
    english = as_user("en_rep").get("/customers").text
    assert "Customers: 0" in english and "No customers yet." in english


def test_phones_are_masked_for_roles_that_may_not_see_them(world: World, as_user: Any) -> None:
    for login in ("mkt", "viewer"):
        page = as_user(login).get("/customers").text
        assert MASKED in page and PHONE not in page, login
        assert "tel:" not in page
    for login in ("rep1", "agent", "admin"):
        page = as_user(login).get("/customers").text
        assert f'href="tel:{PHONE}"' in page and MASKED not in page, login


def test_names_are_escaped(world: World, as_user: Any) -> None:
    page = as_user("admin").get("/customers").text
    assert '<script>alert("x")</script>' not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;华东机械" in page


def test_search_by_name_code_phone_and_email(world: World, as_user: Any) -> None:
    admin, viewer = as_user("admin"), as_user("viewer")
    xss = world.customers[XSS_NAME]
    code = get_customer(world.kernel.ctx(), xss).code
    assert listed(admin.get("/customers", params={"q": "华东机械"}).text) == {xss}
    assert listed(admin.get("/customers", params={"q": "rep2"}).text) == world.ids("Rep2 Co")
    assert listed(admin.get("/customers", params={"q": code.lower()}).text) == {xss}
    assert listed(admin.get("/customers", params={"q": "138-1234-5678"}).text) == {xss}
    assert listed(admin.get("/customers", params={"q": "ZHANG@example.cn"}).text) == {xss}
    # a role that may not see phones can't find customers by phone either
    assert listed(viewer.get("/customers", params={"q": PHONE}).text) == set()
    found = admin.get("/customers", params={"q": "nobody-like-this"}).text
    assert "没有符合筛选条件的客户" in found and 'value="nobody-like-this"' in found


def test_filters_status_industry_region_owner_and_dates(world: World, as_user: Any) -> None:
    admin, rep1 = as_user("admin"), as_user("rep1")
    assert listed(admin.get("/customers?status=won").text) == world.ids(XSS_NAME, "Rep2 Co")
    assert listed(admin.get("/customers?industry=I&status=won").text) == world.ids("Rep2 Co")
    assert listed(admin.get("/customers?region=西南").text) == world.ids("Rep3 West")
    assert listed(admin.get("/customers?source=referral").text) == world.ids(XSS_NAME)
    assert listed(rep1.get("/customers?owner=me").text) == world.ids(XSS_NAME, "Rep1 Second")
    assert listed(admin.get("/customers?owner=me").text) == set()
    rep3 = world.users["rep3"]
    assert listed(admin.get(f"/customers?owner={rep3}").text) == world.ids("Rep3 West")
    everyone = {world.customers[n] for n in VISIBLE["admin"]}
    assert listed(admin.get("/customers?created_from=2000-01-01&created_to=2999-12-31").text) == everyone
    assert listed(admin.get("/customers?created_to=2000-01-01").text) == set()
    # invalid input is shown on the filter form, in the user's language, not as an error page
    bad = admin.get("/customers?created_from=2024-13-45&status=won")
    assert bad.status_code == 200 and "请按 YYYY-MM-DD 格式输入日期" in bad.text
    assert 'value="2024-13-45"' in bad.text and listed(bad.text) == set()
    assert "请从列表中选择一项" in admin.get("/customers?status=nonsense").text
    english = as_user("en_rep").get("/customers?created_from=yesterday").text
    assert "Enter a date as YYYY-MM-DD." in english
    # the owner filter offers the people whose customers the user reads
    assert _owner_filter(as_user("mgr").get("/customers").text) == {"我", "REP1", "REP2"}
    assert _owner_filter(rep1.get("/customers").text) == {"我"}
    assert {"REP3", "AGENT"} <= _owner_filter(admin.get("/customers").text)


def _owner_filter(page: str) -> set[str]:
    select = page[page.index('<select name="owner">'):]
    select = select[:select.index("</select>")]
    return set(re.findall(r'<option value="[^"]+"[^>]*>([^<]+)</option>', select))


def test_filters_on_choice_and_boolean_custom_fields(world: World, as_user: Any) -> None:
    system = world.kernel.ctx()
    create_field(system, {"entity": "customer", "key": "level", "label": "客户等级", "label_en": "Level",
                          "type": "choice", "options": ["A", "B", "C"]})
    create_field(system, {"entity": "customer", "key": "vip", "label": "重点客户", "type": "boolean"})
    create_field(system, {"entity": "customer", "key": "pains", "label": "痛点", "type": "text"})
    world.add_customer("admin", "Level A VIP", custom={"level": "A", "vip": True})
    world.add_customer("admin", "Level B", custom={"level": "B", "vip": False})
    admin = as_user("admin")
    page = admin.get("/customers").text
    assert 'name="cf_level"' in page and 'name="cf_vip"' in page and 'name="cf_pains"' not in page
    assert listed(admin.get("/customers?cf_level=A").text) == world.ids("Level A VIP")
    assert listed(admin.get("/customers?cf_vip=true").text) == world.ids("Level A VIP")
    assert listed(admin.get("/customers?cf_vip=false").text) == world.ids("Level B")
    assert "Level" in as_user("en_rep").get("/customers").text


def test_sort_and_keyset_paging_forward_and_back(world: World, as_user: Any) -> None:
    for i in range(60):
        world.add_customer("admin", f"Bulk {i:02d}")
    admin = as_user("admin")
    seen: list[set[int]] = []
    url = "/customers?sort=name&q=Bulk"
    pages = []
    while url:
        page = admin.get(url).text
        pages.append(url)
        seen.append(listed(page))
        found = re.search(r'<a href="([^"]+)" rel="next">', page)
        url = found.group(1).replace("&amp;", "&") if found else ""
    assert [len(s) for s in seen] == [25, 25, 10]
    assert set().union(*seen) == {world.customers[f"Bulk {i:02d}"] for i in range(60)}
    first_page = admin.get(pages[0]).text
    names = re.findall(r'<a href="/customers/\d+">(Bulk \d\d)</a>', first_page)
    assert names == sorted(names) and names[0] == "Bulk 00"
    last = admin.get(pages[2]).text
    prev = re.search(r'<a href="([^"]+)" rel="prev">', last)
    assert prev and listed(admin.get(prev.group(1).replace("&amp;", "&")).text) == seen[1]
    query = parse_qs(urlsplit(pages[2]).query)
    assert query["sort"] == ["name"] and query["q"] == ["Bulk"]
    first = re.search(r'<a href="([^"]+)">« 第一页</a>', last)
    assert first and listed(admin.get(first.group(1).replace("&amp;", "&")).text) == seen[0]
    assert listed(admin.get("/customers?q=Bulk&limit=100").text) == set().union(*seen)
    stale = admin.get("/customers?cursor=not-a-real-cursor")
    assert stale.status_code == 200 and "翻页链接已失效" in stale.text


def test_saved_filters_belong_to_their_user(world: World, as_user: Any) -> None:
    rep1, rep2 = as_user("rep1"), as_user("rep2")
    saved = rep1.submit("/customers/filters", {"filter_name": "成交客户", "status": "won"},
                        page="/customers?status=won")
    assert saved.status_code == 303 and saved.headers["location"] == "/customers?status=won&done=saved"
    page = rep1.get(saved.headers["location"]).text
    assert "筛选已保存" in page
    assert re.search(r'<a href="/customers\?status=won" aria-current="true">成交客户</a>', page)
    assert "成交客户" not in rep2.get("/customers").text
    filter_id = int(re.findall(r'action="/customers/filters/(\d+)/delete"', page)[0])
    # another user's filter is not found; the filter stays
    stolen = rep2.submit(f"/customers/filters/{filter_id}/delete", {"back": "/customers"}, page="/customers")
    assert stolen.status_code == 404 and "成交客户" in rep1.get("/customers").text
    # the same name replaces; an empty name is refused with the user's input kept
    rep1.submit("/customers/filters", {"filter_name": "成交客户", "status": "won", "industry": "C"},
                page="/customers")
    page = rep1.get("/customers").text
    assert page.count(">成交客户</a>") == 1 and "/customers?status=won&amp;industry=C" in page
    empty = rep1.submit("/customers/filters", {"filter_name": " ", "q": "abc"}, page="/customers")
    assert empty.status_code == 422 and "此项为必填项" in empty.text and 'value="abc"' in empty.text
    gone = rep1.submit(f"/customers/filters/{filter_id}/delete", {"back": "/customers?status=won"},
                       page="/customers")
    assert gone.headers["location"] == "/customers?status=won&done=filter_deleted"
    assert "成交客户" not in rep1.get("/customers").text


def _owner_options(page: str) -> set[str]:
    form = page[page.index('<form id="bulk"'):]
    form = form[:form.index("</form>")]
    return set(re.findall(r'<option value="\d+">([^<]+)</option>', form))


def test_bulk_reassign_within_the_managers_scope(world: World, as_user: Any) -> None:
    mgr = as_user("mgr")
    page = mgr.get("/customers").text
    assert _owner_options(page) == {"MGR", "REP1", "REP2"}  # the team, not West's rep3
    assert 'name="ids"' in page and 'form="bulk"' in page
    assert _owner_options(as_user("admin").get("/customers").text) >= {"REP3", "AGENT", "MGR"}
    for login in ("rep1", "viewer", "mkt", "agent"):
        assert 'id="bulk"' not in as_user(login).get("/customers").text, login
    xss, second = world.customers[XSS_NAME], world.customers["Rep1 Second"]
    moved = mgr.submit("/customers/assign", {"ids": [str(xss), str(second)],
                                             "owner_id": str(world.users["rep2"]),
                                             "back": "/customers?status=won"}, page="/customers")
    assert moved.status_code == 303
    assert moved.headers["location"] == f"/customers?status=won&done=assigned&n=2&to={world.users['rep2']}"
    assert "已将 2 个客户转给 REP2 负责" in mgr.get(moved.headers["location"]).text
    assert listed(as_user("rep2").get("/customers").text) == world.ids(XSS_NAME, "Rep1 Second", "Rep2 Co")
    # outside the team: refused, nothing changes
    to_west = mgr.submit("/customers/assign", {"ids": str(xss), "owner_id": str(world.users["rep3"]),
                                               "back": "/customers"}, page="/customers")
    assert to_west.headers["location"] == "/customers?bulk_error=denied"
    assert "您无权把客户转给该用户负责" in mgr.get(to_west.headers["location"]).text
    west = world.customers["Rep3 West"]
    not_ours = mgr.submit("/customers/assign", {"ids": str(west), "owner_id": str(world.users["rep1"]),
                                                "back": "/customers"}, page="/customers")
    assert not_ours.headers["location"] == "/customers?bulk_error=missing"
    none = mgr.submit("/customers/assign", {"owner_id": str(world.users["rep1"]), "back": "/customers"},
                      page="/customers")
    assert none.headers["location"] == "/customers?bulk_error=none"
    assert "请至少选择一个客户" in mgr.get(none.headers["location"]).text
    assert get_customer(world.kernel.ctx(), west).owner_id == world.users["rep3"]
    # a sales rep may not reassign at all
    refused = as_user("rep1").submit("/customers/assign", {"ids": str(second), "owner_id": "1"},
                                     page="/customers")
    assert refused.status_code == 403
    # the back link can't send anyone elsewhere
    away = mgr.submit("/customers/assign", {"ids": str(second), "owner_id": str(world.users["mgr"]),
                                            "back": "//evil.example/customers"}, page="/customers")
    assert away.headers["location"].startswith("/customers?done=assigned")


def test_forms_of_the_list_need_the_csrf_token(world: World, as_user: Any) -> None:
    mgr = as_user("mgr")
    xss = world.customers[XSS_NAME]
    data = {"ids": str(xss), "owner_id": str(world.users["rep2"])}
    assert mgr.post("/customers/assign", data=data).status_code == 403
    assert mgr.post("/customers/assign", data={**data, "csrf_token": "forged"}).status_code == 403
    assert mgr.post("/customers/filters", data={"filter_name": "x"}).status_code == 403
    assert get_customer(world.kernel.ctx(), xss).owner_id == world.users["rep1"]
