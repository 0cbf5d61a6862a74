"""The pages: board, list, detail, forms, forecast, settings, panel and widget, in Chinese and
English, each action through its plain form (no JavaScript)."""

from __future__ import annotations

import re
from decimal import Decimal

from crm_pipeline.services import create_opportunity, get_opportunity

from crm_core.testing_web import Client


def _login(crm_app, login: str) -> Client:
    c = crm_app.client()
    assert c.login(login).status_code == 303
    return c


def _csrf(c: Client, page: str) -> str:
    html = c.get(page).text
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_board_list_detail_in_both_languages(crm_app, people):
    cust = people.customer("rep_a", name="华东精密机械有限公司")
    opp = create_opportunity(people.ctx("rep_a"), {"customer_id": cust.id, "name": "年度采购",
                                                   "amount": "120000", "stage": "proposal"})
    zh = _login(crm_app, "rep_a")
    board = zh.get("/pipeline/")
    assert board.status_code == 200
    assert "方案" in board.text and "年度采购" in board.text and "华东精密机械有限公司" in board.text
    assert 'draggable="true"' in board.text and "pipeline.js" in board.text
    assert "¥120,000.00" in board.text
    assert "年度采购" in zh.get("/pipeline/list").text
    detail = zh.get(f"/pipeline/opportunities/{opp.id}")
    assert detail.status_code == 200 and "阶段历史" in detail.text and "报价" in detail.text
    en = _login(crm_app, "rep_b")
    opp_b = create_opportunity(people.ctx("rep_b"), {"customer_id": people.customer("rep_b").id,
                                                     "name": "Renewal", "amount": "5000"})
    page = en.get(f"/pipeline/opportunities/{opp_b.id}")
    assert "Stage history" in page.text and "Quote sent" in page.text and "Lead" in page.text
    assert "Proposal" in en.get("/pipeline/").text


def test_move_by_form_lost_needs_reason_and_keeps_input(crm_app, people):
    cust = people.customer("rep_a")
    opp = create_opportunity(people.ctx("rep_a"), {"customer_id": cust.id, "name": "扩容"})
    c = _login(crm_app, "rep_a")
    token = _csrf(c, f"/pipeline/opportunities/{opp.id}")
    r = c.post(f"/pipeline/opportunities/{opp.id}/move",
               data={"csrf_token": token, "stage": "lost", "version": "1", "lost_reason": ""})
    assert r.status_code == 422 and "请说明丢单原因" in r.text
    assert get_opportunity(people.ctx("rep_a"), opp.id).status == "open"
    r = c.post(f"/pipeline/opportunities/{opp.id}/move",
               data={"csrf_token": token, "stage": "intent", "version": "1", "next": "/pipeline/"})
    assert r.status_code == 303 and r.headers["location"].startswith("/pipeline/?done=moved")
    assert get_opportunity(people.ctx("rep_a"), opp.id).stage == "intent"
    # a stale version (the form was loaded before the move) is told apart, nothing changes
    r = c.post(f"/pipeline/opportunities/{opp.id}/move",
               data={"csrf_token": token, "stage": "proposal", "version": "1"})
    assert r.status_code == 409 and "其他人" in r.text
    assert get_opportunity(people.ctx("rep_a"), opp.id).stage == "intent"


def test_create_form_errors_are_translated_and_input_kept(crm_app, people):
    cust = people.customer("rep_b")
    c = _login(crm_app, "rep_b")
    form = c.get(f"/pipeline/opportunities/new?customer_id={cust.id}")
    assert form.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    r = c.post("/pipeline/opportunities/new", data={
        "csrf_token": token, "customer_id": str(cust.id), "name": "Big deal",
        "amount": "12.345", "probability": "150", "stage": "intent"})
    assert r.status_code == 422
    assert "At most 2 decimal places." in r.text and "A percentage between 0 and 100." in r.text
    assert 'value="Big deal"' in r.text and 'value="12.345"' in r.text
    r = c.post("/pipeline/opportunities/new", data={
        "csrf_token": token, "customer_id": str(cust.id), "name": "Big deal",
        "amount": "12,000.50", "stage": "intent", "expected_close": "2026-12-20"})
    assert r.status_code == 303
    opp_id = int(re.search(r"/opportunities/(\d+)", r.headers["location"]).group(1))
    opp = get_opportunity(people.ctx("rep_b"), opp_id)
    assert opp.amount == Decimal("12000.50") and opp.stage == "intent" and opp.probability == 30


def test_customer_panel_and_dashboard_widget(crm_app, people):
    cust = people.customer("rep_a", name="南方电子有限公司")
    create_opportunity(people.ctx("rep_a"), {"customer_id": cust.id, "name": "试点项目",
                                             "amount": "30000"})
    c = _login(crm_app, "rep_a")
    page = c.get(f"/customers/{cust.id}")
    assert "试点项目" in page.text and f"/pipeline/opportunities/new?customer_id={cust.id}" in page.text
    home = c.get("/")
    assert "本月成交" in home.text


def test_forecast_and_settings_pages(crm_app, people):
    c = _login(crm_app, "admin")
    assert c.get("/pipeline/forecast?group=owner").status_code == 200
    assert c.get("/pipeline/forecast?group=team&start=2026-01-01&end=2026-12-31").status_code == 200
    bad = c.get("/pipeline/forecast?start=2026-12-01&end=2026-01-01")
    assert bad.status_code == 200 and "alert" in bad.text
    page = c.get("/pipeline/settings")
    assert page.status_code == 200 and "线索" in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = c.post("/pipeline/settings/pipelines/default",
               data={"csrf_token": token, "name": "销售流程", "name_en": "Sales",
                     "approval_threshold": "-1", "version": "1"})
    assert r.status_code == 422 and "金额不能为负数" in r.text
    r = c.post("/pipeline/settings/pipelines/default",
               data={"csrf_token": token, "name": "销售流程", "name_en": "Sales",
                     "approval_threshold": "100000", "version": "1"})
    assert r.status_code == 303
    assert _login(crm_app, "rep_a").get("/pipeline/settings").status_code == 403


def test_approval_flow_through_the_pages(crm_app, people):
    from crm_pipeline.services.config import update_pipeline

    update_pipeline(people.ctx("admin"), "default", {"approval_threshold": "10000"})
    cust = people.customer("rep_a")
    opp = create_opportunity(people.ctx("rep_a"), {"customer_id": cust.id, "name": "大单",
                                                   "amount": "20000"})
    rep = _login(crm_app, "rep_a")
    page = f"/pipeline/opportunities/{opp.id}"
    token = _csrf(rep, page)
    r = rep.post(f"{page}/win", data={"csrf_token": token, "version": "1"})
    assert r.status_code == 409 and "需销售经理审批" in r.text
    r = rep.post(f"{page}/approval", data={"csrf_token": token, "comment": "请批准"})
    assert r.status_code == 303
    south = _login(crm_app, "mgr_south")
    assert "大单" not in south.get("/pipeline/approvals").text
    mgr = _login(crm_app, "mgr_east")
    assert "大单" in mgr.get("/pipeline/approvals").text
    assert "1 个销售机会等待您审批" in mgr.get("/").text
    assert "等待您审批" not in south.get("/").text
    mtoken = _csrf(mgr, page)
    r = mgr.post(f"{page}/approval/decision", data={"csrf_token": mtoken, "decision": "reject"})
    assert r.status_code == 422 and "请说明驳回原因" in r.text
    r = mgr.post(f"{page}/approval/decision", data={"csrf_token": mtoken, "decision": "approve",
                                                    "comment": "同意"})
    assert r.status_code == 303
    version = str(get_opportunity(people.ctx("rep_a"), opp.id).version)
    r = rep.post(f"{page}/win", data={"csrf_token": token, "version": version})
    assert r.status_code == 303 and get_opportunity(people.ctx("rep_a"), opp.id).status == "won"
    assert "已批准" in rep.get(page).text


def test_list_filter_errors_are_shown_and_the_list_still_answers(crm_app, people):
    create_opportunity(people.ctx("rep_b"), {"customer_id": people.customer("rep_b").id,
                                             "name": "Listed"})
    c = _login(crm_app, "rep_b")
    r = c.get("/pipeline/list?status=maybe&close_from=soon")
    assert r.status_code == 200 and "Listed" in r.text and "field-error" in r.text
    assert c.get("/pipeline/list?owner=me&sort=-amount").status_code == 200


def test_manager_gives_an_opportunity_to_a_team_member_on_the_form(crm_app, people):
    cust = people.customer("mgr_east")
    mgr = _login(crm_app, "mgr_east")
    form = mgr.get(f"/pipeline/opportunities/new?customer_id={cust.id}").text
    assert f'<option value="{people.ids["rep_b"]}"' in form
    assert f'<option value="{people.ids["rep_s"]}"' not in form  # another team
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    r = mgr.post("/pipeline/opportunities/new", data={
        "csrf_token": token, "customer_id": str(cust.id), "name": "交给王芳",
        "owner_id": str(people.ids["rep_b"])})
    assert r.status_code == 303
    opp_id = int(re.search(r"/opportunities/(\d+)", r.headers["location"]).group(1))
    assert get_opportunity(people.ctx("rep_b"), opp_id).owner_id == people.ids["rep_b"]
    r = mgr.post("/pipeline/opportunities/new", data={
        "csrf_token": token, "customer_id": str(cust.id), "name": "越权",
        "owner_id": str(people.ids["rep_s"])})
    assert r.status_code == 422 and "只能选择您团队中的成员" in r.text and 'value="越权"' in r.text
    rep_form = _login(crm_app, "rep_a").get("/pipeline/opportunities/new").text
    assert 'name="owner_id"' not in rep_form
