"""The sales plugins end to end in a real browser (Playwright + Debian's Chromium, the app served by
uvicorn on loopback), for a rep working in Chinese: a visitor's enquiry on the public web form
becomes the rep's lead (the admin's assignment rule), the rep converts it into a customer with an
opportunity, moves the opportunity across the kanban board to 成交 (won, below the approval
threshold the admin set), and — once the stale-customer job has run — finds the reminder for a
customer left without a follow-up for too long. A short English variant checks the board's labels.

Every step asserts the page and the database (through the plugins' services)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from browser_support import LiveServer, add_user, sign_in
from crm_leads.manifest import manifest as LEADS
from crm_leads.models import Lead
from crm_leads.services.rules import create_rule
from crm_leads.services.webform import create_token
from crm_leads_pipeline.manifest import manifest as LEADS_PIPELINE
from crm_pipeline.manifest import manifest as PIPELINE
from crm_pipeline.models import Opportunity
from crm_pipeline.services import create_opportunity, get_opportunity, stage_history
from crm_pipeline.services.config import get_pipeline, update_pipeline
from crm_tasks.manifest import manifest as TASKS
from crm_tasks.models import Task
from crm_tasks_leads.manifest import manifest as TASKS_LEADS
from sqlalchemy import select
from sqlmodel import col

from crm_core.context import Ctx
from crm_core.db import utcnow
from crm_core.kernel import Kernel
from crm_core.scheduler import run_job
from crm_core.services.customers import create_customer, get_customer
from crm_core.services.followups import create_followup
from crm_core.services.notifications import unread_count
from crm_core.services.roles import seed_builtin_grants
from crm_core.services.users import actor_for

PLUGINS = [LEADS, PIPELINE, TASKS, LEADS_PIPELINE, TASKS_LEADS]
ENABLED = ["leads", "pipeline", "tasks", "leads_pipeline", "tasks_leads"]
THRESHOLD = Decimal("100000")  # wins above this need a manager's approval; the deal stays below
STAGES = ["intent", "proposal", "negotiation", "won"]  # from 线索 (lead), one column at a time


@pytest.fixture
def sales(make_kernel: Callable[..., Kernel]) -> Iterator[tuple[Kernel, LiveServer]]:
    kernel = make_kernel(plugins=PLUGINS, enabled=ENABLED, scheduler_enabled=False)
    seed_builtin_grants(kernel.ctx())
    server = LiveServer(kernel)
    server.start()
    yield kernel, server
    server.stop()


def _ctx(kernel: Kernel, login: str) -> Ctx:
    return kernel.ctx(actor_for(kernel.ctx(), login), "web")


def _card_stage(page: Any, opp_id: int) -> str:
    return str(page.locator(f".opp-card[data-id='{opp_id}']").evaluate(
        "card => card.closest('.board-col').dataset.stage"))


def _move_with_keyboard(page: Any, opp_id: int) -> None:
    """The no-JS Move form, keyboard only: the card's select one option down, Tab, Enter."""
    page.focus(f"#move-{opp_id}")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")


def _body(page: Any) -> str:
    return str(page.locator("body").inner_text())


def test_rep_takes_a_web_lead_to_a_won_deal_and_gets_the_stale_customer_reminder(
    page: Any, sales: tuple[Kernel, LiveServer], shot: Callable[[str], Any]
) -> None:
    kernel, server = sales
    add_user(kernel, "wang.admin", "admin", name="王管理")
    add_user(kernel, "li.na", "sales_rep", name="李娜")
    add_user(kernel, "zhao.lei", "sales_rep", name="赵磊")
    admin, rep = _ctx(kernel, "wang.admin"), _ctx(kernel, "li.na")
    other = _ctx(kernel, "zhao.lei")
    # the admin's setup: a rule for trade-show leads first (not this one), then website leads → 李娜
    create_rule(admin, {"name": "展会线索给赵磊", "action": "user", "user_id": other.actor.id,
                        "conditions": {"sources": ["trade_show"]}})
    create_rule(admin, {"name": "官网线索给李娜", "action": "user", "user_id": rep.actor.id,
                        "conditions": {"sources": ["website"]}})
    token = create_token(admin, "官网咨询", "website", 5).token
    update_pipeline(admin, "default", {"approval_threshold": str(THRESHOLD)})
    assert get_pipeline(admin, "default").approval_threshold == THRESHOLD

    # 1. an anonymous visitor fills the embeddable form
    page.goto(f"{server.url}/leads/form/{token}")
    assert page.locator("a.notif-link").count() == 0  # nobody is signed in
    page.fill("input[name=name]", "周先生")
    page.fill("input[name=company]", "杭州云帆科技有限公司")
    page.fill("input[name=phone]", "13905712345")
    page.fill("input[name=email]", "zhou@yunfan.example.cn")
    page.fill("textarea[name=remark]", "想了解企业版报价")
    shot("web-form-filled")
    page.click("form.public-form button[type=submit]")
    page.wait_for_selector("p.notice[role=status]")
    assert "谢谢" in _body(page)
    shot("web-form-thanks")
    with kernel.new_session() as s:
        leads = list(s.scalars(select(Lead)))
    assert len(leads) == 1
    lead = leads[0]
    assert (lead.name, lead.company, lead.source, lead.status) == (
        "周先生", "杭州云帆科技有限公司", "website", "new")
    assert lead.owner_id == rep.actor.id and lead.assignment_reason
    assert "官网线索给李娜" in lead.assignment_reason

    # 2. the rep signs in, finds the lead among their own, opens it and converts it
    sign_in(page, server, "li.na")
    page.goto(f"{server.url}/leads/?owner=me")
    row = page.locator("table.list tbody tr", has_text="周先生")
    assert row.count() == 1 and "杭州云帆科技有限公司" in row.inner_text()
    assert "李娜" in row.inner_text()
    shot("my-leads")
    row.get_by_role("link", name="周先生").click()
    page.wait_for_url(f"{server.url}/leads/{lead.id}")
    assert "官网线索给李娜" in page.locator(".assignment-reason").inner_text()
    shot("lead-page")
    page.get_by_role("link", name="转为客户").click()
    page.wait_for_url(f"{server.url}/leads/{lead.id}/convert")
    assert page.locator("input[name=customer_name]").input_value() == "杭州云帆科技有限公司"
    page.check("input[name=pipeline_create]")
    page.fill("input[name=pipeline_name]", "云帆企业版年度订阅")
    page.fill("input[name=pipeline_amount]", "36000")
    shot("convert-form")
    page.click("form button.primary")
    page.wait_for_url(re.compile(rf"{re.escape(server.url)}/customers/\d+$"))
    with kernel.new_session() as s:
        converted = s.get(Lead, lead.id)
        opps = list(s.scalars(select(Opportunity)))
    assert converted is not None and converted.status == "converted"
    customer_id = converted.converted_customer_id
    assert customer_id is not None and page.url.endswith(f"/customers/{customer_id}")
    assert len(opps) == 1
    opp = get_opportunity(rep, opps[0].id or 0)
    assert (opp.name, opp.amount, opp.customer_id, opp.owner_id, opp.stage) == (
        "云帆企业版年度订阅", Decimal("36000"), customer_id, rep.actor.id, "lead")
    assert get_customer(rep, customer_id).status == "potential"
    assert "杭州云帆科技有限公司" in page.locator("h1").inner_text()
    panel = page.locator("[id='panel-pipeline.opportunities']")
    assert "云帆企业版年度订阅" in panel.inner_text() and "线索" in panel.inner_text()
    assert page.locator("span.badge.status-potential").first.inner_text() == "潜在客户"
    shot("customer-after-conversion")

    # 3. the board: one column at a time with the keyboard's Move form, up to 成交 (won)
    page.goto(f"{server.url}/pipeline/")
    assert page.locator("#col-won").inner_text().startswith("成交")
    assert _card_stage(page, opp.id) == "lead"
    shot("board-start")
    for stage in STAGES:
        _move_with_keyboard(page, opp.id)
        assert get_opportunity(rep, opp.id).stage == stage
        assert _card_stage(page, opp.id) == stage
        assert "销售机会已移动。" in page.locator("p.notice").inner_text()
        shot(f"board-{stage}")
    won = get_opportunity(rep, opp.id)
    assert (won.status, won.probability, won.approval_status) == ("won", 100, "none")
    assert [h.stage for h in stage_history(rep, opp.id)] == ["lead", *STAGES]
    assert get_customer(rep, customer_id).status == "won"
    card = page.locator(f".opp-card[data-id='{opp.id}']")
    assert "100%" in card.inner_text() and "杭州云帆科技有限公司" in card.inner_text()
    page.goto(f"{server.url}/customers/{customer_id}")
    assert page.locator("span.badge.status-won").first.inner_text() == "已成交"
    shot("customer-won")

    # 4. a customer of the rep last followed up 5 days ago, another yesterday; the job runs
    stale = create_customer(rep, {"name": "苏州恒通精密机械有限公司"}).id
    fresh = create_customer(rep, {"name": "宁波海纳贸易有限公司"}).id
    create_followup(rep, {"customer_id": stale, "content": "电话沟通需求",
                          "occurred_at": utcnow() - timedelta(days=5)})
    create_followup(rep, {"customer_id": fresh, "content": "发送报价单",
                          "occurred_at": utcnow() - timedelta(days=1)})
    page.goto(f"{server.url}/")
    assert page.locator("a.notif-link .badge").count() == 0
    assert unread_count(rep) == 0
    assert run_job(kernel, "tasks.stale_customers", "browser-flow-fire-1") == "done"
    assert run_job(kernel, "tasks.stale_customers", "browser-flow-fire-1") == "duplicate"
    assert run_job(kernel, "tasks.stale_customers", "browser-flow-fire-2") == "done"  # no double
    with kernel.new_session() as s:
        tasks = list(s.scalars(select(Task).where(col(Task.source) == "rule.stale_customer")))
    assert [(t.related_entity, t.related_id, t.assignee_id) for t in tasks] == [
        ("customer", stale, rep.actor.id)]
    assert unread_count(rep) == 1

    page.reload()
    assert page.locator("a.notif-link .badge").inner_text() == "1"
    shot("header-badge")
    page.locator("a.notif-link").click()
    page.wait_for_url(f"{server.url}/notifications")
    item = page.locator("li.notification.unread")
    assert item.count() == 1
    assert "跟进客户：苏州恒通精密机械有限公司" in item.inner_text()
    assert "宁波海纳贸易有限公司" not in _body(page) and "杭州云帆科技有限公司" not in _body(page)
    shot("notifications")
    item.get_by_role("button").first.click()
    page.wait_for_url(re.compile(rf"/customers/{stale}$"))
    assert page.locator("a.notif-link .badge").count() == 0 and unread_count(rep) == 0
    page.goto(f"{server.url}/tasks/")
    row = page.locator("li.task", has_text="苏州恒通精密机械有限公司")
    assert row.count() == 1
    assert page.locator("li.task", has_text="宁波海纳贸易有限公司").count() == 0
    shot("my-tasks-reminder")


def test_english_rep_moves_a_deal_to_won_on_the_board(
    page: Any, sales: tuple[Kernel, LiveServer], shot: Callable[[str], Any]
) -> None:
    kernel, server = sales
    add_user(kernel, "wang.admin", "admin", name="Wang")
    add_user(kernel, "tom", "sales_rep", locale="en", name="Tom Becker")
    admin, rep = _ctx(kernel, "wang.admin"), _ctx(kernel, "tom")
    update_pipeline(admin, "default", {"approval_threshold": str(THRESHOLD)})
    cid = create_customer(rep, {"name": "Harbour Logistics Ltd"}).id
    opp = create_opportunity(rep, {"customer_id": cid, "name": "Fleet tracking rollout",
                                   "amount": "48000"})
    sign_in(page, server, "tom")
    page.goto(f"{server.url}/pipeline/")
    headings = [page.locator(f"#col-{k}").inner_text().split()[0] for k in ("lead", "won", "lost")]
    assert headings == ["Lead", "Won", "Lost"]
    assert page.locator(f".opp-card[data-id='{opp.id}'] .move-form button").inner_text() == "Move"
    shot("board-en")
    page.select_option(f"#move-{opp.id}", "won")
    with page.expect_navigation():
        page.locator(f".opp-card[data-id='{opp.id}'] .move-form button").press("Enter")
    assert page.locator("p.notice").inner_text() == "The opportunity was moved."
    assert _card_stage(page, opp.id) == "won"
    assert get_opportunity(rep, opp.id).status == "won" and get_customer(rep, cid).status == "won"
    page.goto(f"{server.url}/customers/{cid}")
    assert page.locator("span.badge.status-won").first.inner_text() == "Won"
    shot("customer-won-en")
