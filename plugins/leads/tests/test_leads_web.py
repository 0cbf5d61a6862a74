"""Pages, the JSON API, the public web form and the CSV upload, served in-process."""

from __future__ import annotations

from typing import Any

import pytest
from crm_leads import services as svc
from crm_leads.manifest import manifest
from crm_leads.services import rules
from crm_leads.services.webform import create_token
from leads_support import People, lead_data

from crm_core.kernel import Kernel
from crm_core.testing_web import Client, CrmSite, check_declared_dependencies


def login(app: CrmSite, user: str) -> Client:
    c = app.client()
    assert c.login(user).status_code == 303
    return c


def api(app: CrmSite, user: str) -> Client:
    from crm_core.services.auth import create_token as api_token

    _row, raw = api_token(app.kernel.ctx(), user, "test")
    return app.client(headers={"Authorization": f"Bearer {raw}"})


def test_runs_with_only_its_declared_dependencies(make_kernel: Any) -> None:
    checked = check_declared_dependencies(lambda ms: make_kernel(plugins=ms), manifest)
    assert "leads_lead" in checked["tables"] and "/api/v1/leads" in checked["routes"]


def test_pages_create_with_inline_errors_then_list_and_detail(people: People, crm_app: CrmSite) -> None:
    c = login(crm_app, "rep_a")
    bad = c.submit("/leads/new", {"name": "王五", "company": "保留输入公司", "phone": "12"},
                   page="/leads/new")
    assert bad.status_code == 422
    assert "保留输入公司" in bad.text and "field-error" in bad.text
    assert svc.list_leads(people.ctx("admin")).items == []
    ok = c.submit("/leads/new", {"name": "王五", "company": "好公司", "phone": "13900139000",
                                 "source": "referral", "region": "华南", "estimated_value": "12,000"},
                  page="/leads/new")
    assert ok.status_code == 303
    detail = c.get(ok.headers["location"])
    assert detail.status_code == 200 and "好公司" in detail.text and "no rule matched" in detail.text
    listing = c.get("/leads/?source=referral")
    assert "王五" in listing.text
    assert c.get("/leads/?source=nonsense").status_code == 200  # a bad filter is shown, not a crash


def test_english_ui(people: People, crm_app: CrmSite) -> None:
    svc.create_lead(people.ctx("rep_b"), lead_data())
    en = login(crm_app, "rep_b").get("/leads/")
    zh = login(crm_app, "rep_a").get("/leads/")
    assert "New lead" in en.text and "Lead status" in en.text
    assert "新建线索" in zh.text and "线索状态" in zh.text


def test_rep_sees_only_own_leads_on_pages(people: People, crm_app: CrmSite) -> None:
    mine = svc.create_lead(people.ctx("rep_a"), lead_data(n=1, name="我的线索"))
    theirs = svc.create_lead(people.ctx("rep_b"), lead_data(n=2, name="别人的线索"))
    c = login(crm_app, "rep_a")
    page = c.get("/leads/")
    assert "我的线索" in page.text and "别人的线索" not in page.text
    assert c.get(f"/leads/{theirs.id}").status_code == 404
    assert c.get(f"/leads/{mine.id}").status_code == 200
    m = login(crm_app, "mgr_east").get("/leads/")
    assert "我的线索" in m.text and "别人的线索" in m.text
    assert c.get("/leads/rules").status_code == 403


def test_api_crud_etag_and_problems(people: People, crm_app: CrmSite) -> None:
    c = api(crm_app, "rep_a")
    created = c.post("/api/v1/leads", json=lead_data(email="x@y.cn"))
    assert created.status_code == 201, created.text
    lead = created.json()
    assert created.headers["etag"] == f'W/"{lead["version"]}"'
    assert created.headers["location"] == f"/api/v1/leads/{lead['id']}"
    one = f"/api/v1/leads/{lead['id']}"
    assert c.request("PATCH", one, json={"company": "新公司"}).status_code == 428
    stale = c.request("PATCH", one, json={"company": "新公司"}, headers={"If-Match": 'W/"99"'})
    assert stale.status_code == 412 and stale.headers["content-type"].startswith("application/problem+json")
    ok = c.request("PATCH", one, json={"company": "新公司"}, headers={"If-Match": created.headers["etag"]})
    assert ok.status_code == 200 and ok.json()["company"] == "新公司"
    bad = c.post("/api/v1/leads", json=lead_data(phone="abc"))
    assert bad.status_code == 422 and "phone" in bad.json()["errors"]
    assert c.post("/api/v1/leads", json={**lead_data(), "owner_id": 1}).status_code == 422
    assert c.get("/api/v1/leads?colour=red").status_code == 400
    page = c.get("/api/v1/leads?limit=1&status=new").json()
    assert [x["id"] for x in page["items"]] == [lead["id"]]
    doc = api(crm_app, "admin").get("/api/v1/openapi.json").json()
    assert "/api/v1/leads" in doc["paths"] and "post" in doc["paths"]["/api/v1/leads"]
    assert "/api/v1/leads/{id}/convert" in doc["paths"]


def test_api_convert_and_report(people: People, crm_app: CrmSite) -> None:
    c = api(crm_app, "rep_a")
    lead = c.post("/api/v1/leads", json=lead_data()).json()
    assert c.get(f"/api/v1/leads/{lead['id']}/matches").json() == {"items": []}
    done = c.post(f"/api/v1/leads/{lead['id']}/convert", json={})
    assert done.status_code == 200 and done.json()["created_customer"] is True
    report = c.get("/api/v1/leads/report/by-source").json()["items"]
    assert report[0]["source"] == "website" and report[0]["converted"] == 1


def test_disable_hides_pages_and_api_keeps_customers_and_data(people: People, crm_app: CrmSite) -> None:
    lead = svc.create_lead(people.ctx("rep_a"), lead_data())
    from crm_leads.services.convert import convert_lead

    customer_id = convert_lead(people.ctx("rep_a"), lead.id, {}).customer_id
    c = login(crm_app, "admin")
    a = api(crm_app, "admin")
    k: Kernel = crm_app.kernel
    k.host.set_enabled(["leads"], False)
    assert c.get("/leads/").status_code == 404
    assert a.get("/api/v1/leads").status_code == 404
    assert a.get(f"/api/v1/leads/{lead.id}").status_code == 404
    assert a.get(f"/api/v1/customers/{customer_id}").status_code == 200
    k.host.set_enabled(["leads"], True)
    again = a.get(f"/api/v1/leads/{lead.id}")
    assert again.status_code == 200 and again.json()["converted_customer_id"] == customer_id
    assert "转化自线索" in c.get(f"/customers/{customer_id}").text  # the customer panel


def test_rules_page_and_reassign(people: People, crm_app: CrmSite) -> None:
    admin = login(crm_app, "admin")
    bad = admin.submit("/leads/rules", {"name": "缺少团队", "action": "round_robin"}, page="/leads/rules")
    assert bad.status_code == 422 and "缺少团队" in bad.text
    ok = admin.submit("/leads/rules", {"name": "华南轮询", "action": "round_robin",
                                       "team_id": str(people.teams["east"]), "regions": "华南"},
                      page="/leads/rules")
    assert ok.status_code == 303 and "华南轮询" in admin.get("/leads/rules").text
    [rule] = rules.list_rules(people.ctx("admin"))
    edit = admin.get(f"/leads/rules?edit={rule.id}")
    assert "编辑规则" in edit.text and 'value="华南轮询"' in edit.text and 'name="version"' in edit.text
    page = f"/leads/rules?edit={rule.id}"
    form = {"op": "update", "rule_id": str(rule.id), "version": str(rule.version), "name": "华南轮询",
            "action": "round_robin", "team_id": str(people.teams["east"]), "regions": "华南",
            "value_min": "1000"}
    assert admin.submit("/leads/rules", form, page=page).status_code == 303
    [edited] = rules.list_rules(people.ctx("admin"))
    assert edited.conditions["value_min"] == "1000.00" and edited.version == rule.version + 1
    stale = admin.submit("/leads/rules", {**form, "value_min": "5"}, page=page)  # the old version
    assert stale.status_code == 409 and "该规则已被他人修改" in stale.text
    form = {**form, "version": str(edited.version)}
    del form["value_min"]
    assert admin.submit("/leads/rules", form, page=page).status_code == 303
    lead = svc.create_lead(people.system, lead_data(region="华南"))
    assert lead.owner_id == people.ids["rep_a"]
    mgr = login(crm_app, "mgr_east")
    moved = mgr.submit(f"/leads/{lead.id}/reassign", {"owner_id": str(people.ids["rep_b"])},
                       page=f"/leads/{lead.id}")
    assert moved.status_code == 303
    assert svc.get_lead(people.ctx("admin"), lead.id).owner_id == people.ids["rep_b"]


def test_dashboard_widget(people: People, crm_app: CrmSite) -> None:
    svc.create_lead(people.ctx("rep_a"), lead_data())
    home = login(crm_app, "rep_a").get("/")
    assert "今天的新线索" in home.text


# --- public web form -------------------------------------------------------------------------
def form(people: People, limit: int = 3) -> str:
    rules.create_rule(people.ctx("admin"), {"name": "web", "action": "round_robin",
                                            "team_id": people.teams["east"]})
    return create_token(people.ctx("admin"), "官网", "website", limit).token


def test_public_form_creates_assigned_lead_without_login_or_csrf(people: People, crm_app: CrmSite) -> None:
    token = form(people)
    visitor = crm_app.client(headers={"Origin": "https://www.example-company.cn"})
    assert visitor.get(f"/leads/form/{token}").status_code == 200
    done = visitor.post(f"/leads/form/{token}", data={"name": "访客", "phone": "13700137000",
                                                      "company": "访客公司"})
    assert done.status_code == 200 and "谢谢" in done.text
    [lead] = svc.list_leads(people.ctx("admin")).items
    assert lead.source == "website" and lead.owner_id == people.ids["rep_a"]
    assert visitor.get("/leads/form/not-a-token").status_code == 404


def test_public_form_bad_input_and_honeypot_store_nothing(people: People, crm_app: CrmSite) -> None:
    token = form(people)
    visitor = crm_app.client()
    bad = visitor.post(f"/leads/form/{token}", data={"name": "访客", "phone": "123"})
    assert bad.status_code == 422 and "访客" in bad.text and "field-error" in bad.text
    neither = visitor.post(f"/leads/form/{token}", data={"name": "访客"})
    assert neither.status_code == 422 and "请填写电话或邮箱。" in neither.text
    bot = visitor.post(f"/leads/form/{token}", data={"name": "Bot", "phone": "13700137000",
                                                     "website_url": "http://spam"})
    assert bot.status_code == 200
    assert svc.list_leads(people.ctx("admin")).items == []


def test_public_form_rate_limit_per_ip(people: People, crm_app: CrmSite) -> None:
    token = form(people, limit=2)
    visitor = crm_app.client()
    codes = [visitor.post(f"/leads/form/{token}", data={"name": f"访客{i}", "phone": f"1370013700{i}"}
                          ).status_code for i in range(4)]
    assert codes == [200, 200, 429, 429]
    assert len(svc.list_leads(people.ctx("admin")).items) == 2


def test_switched_off_form_is_gone(people: People, crm_app: CrmSite) -> None:
    from crm_leads.services.webform import form_for, set_token_active

    token = form(people)
    set_token_active(people.ctx("admin"), form_for(people.system, token).id, False)
    assert crm_app.client().get(f"/leads/form/{token}").status_code == 404


# --- CSV upload ------------------------------------------------------------------------------
CSV = ("姓名,公司,电话,来源,地区,预计金额\n张三,甲公司,13800138001,展会,华东,10000\n"
       "李四,乙公司,13800138002,,华南,\n")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_upload_encodings(people: People, crm_app: CrmSite, encoding: str) -> None:
    c = login(crm_app, "rep_a")
    token = c.csrf("/leads/upload")
    r = c.post("/leads/upload", data={"csrf_token": token},
               files={"file": ("leads.csv", CSV.encode(encoding), "text/csv")},
               headers={"Referer": "http://crm.test/leads/upload"})
    assert r.status_code == 200, r.text
    names = sorted(x.name for x in svc.list_leads(people.ctx("rep_a")).items)
    assert names == ["张三", "李四"]
    sources = {x.name: x.source for x in svc.list_leads(people.ctx("rep_a")).items}
    assert sources == {"张三": "trade_show", "李四": "import"}


def test_csv_upload_invalid_rows_store_nothing(people: People, crm_app: CrmSite) -> None:
    bad = CSV + "王五,丙公司,12345,,火星,abc\n"
    c = api(crm_app, "rep_a")
    r = c.post("/api/v1/leads/upload", content=bad.encode("gbk"), headers={"Content-Type": "text/csv"})
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert set(errors) == {"row 4: phone", "row 4: region", "row 4: estimated_value"}
    assert svc.list_leads(people.ctx("admin")).items == []
    page = login(crm_app, "rep_a")
    tok = page.csrf("/leads/upload")
    shown = page.post("/leads/upload", data={"csrf_token": tok},
                      files={"file": ("x.csv", bad.encode(), "text/csv")},
                      headers={"Referer": "http://crm.test/leads/upload"})
    assert shown.status_code == 422
    assert "<td>4</td><td>region</td>" in shown.text and "<td>4</td><td>phone</td>" in shown.text
    assert svc.list_leads(people.ctx("admin")).items == []
