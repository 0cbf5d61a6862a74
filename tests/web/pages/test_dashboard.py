"""The home dashboard: the kernel's customer widgets beside the plugins' (``dashboard_widgets``)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from pages_support import XSS_NAME, World

from crm_core.db import utcnow
from crm_core.services.customers import local_today
from crm_core.services.followups import create_followup


def widget(page: str, key: str) -> str:
    found = re.search(rf'<section class="card widget" id="widget-{key}">(.*?)</section>', page, re.S)
    assert found, f"no widget {key}"
    return found.group(1)


def test_widgets_in_order_with_the_plugins(world: World, as_user: Any) -> None:
    page = as_user("rep1").get("/").text
    keys = re.findall(r'id="widget-([\w-]+)"', page)
    assert keys == ["customers-mine", "panelplug-widget", "customers-due", "customers-recent"]
    mine = widget(page, "customers-mine")
    assert "我的客户" in mine and '<a href="/customers?owner=me">2</a>' in mine
    assert "Rep1 Second" in mine and "&lt;script&gt;" in mine and "<script>alert" not in page
    recent = widget(page, "customers-recent")
    assert "最近更新的客户" in recent and "Rep1 Second" in recent and "Rep2 Co" not in recent
    assert 'href="/customers/new"' in page


def test_widgets_follow_the_permissions_and_language(world: World, as_user: Any) -> None:
    viewer = as_user("viewer").get("/").text
    assert '<a href="/customers?owner=me">0</a>' in widget(viewer, "customers-mine")
    assert "Rep3 West" in widget(viewer, "customers-recent")  # reads all
    assert 'href="/customers/new"' not in viewer
    english = as_user("en_rep").get("/").text
    assert "My customers" in english and "Follow-ups due" in english
    assert "Nothing is due. Well done!" in english


def test_follow_ups_due_today_or_overdue_until_a_newer_one_is_logged(world: World, as_user: Any) -> None:
    ctx = world.ctx("rep1")
    today = local_today("Asia/Shanghai")
    earlier = utcnow() - timedelta(days=5)
    second, xss = world.customers["Rep1 Second"], world.customers[XSS_NAME]
    create_followup(ctx, {"customer_id": second, "content": "a", "next_step": "寄样品",
                          "next_step_due": str(today - timedelta(days=2)), "occurred_at": earlier})
    create_followup(ctx, {"customer_id": xss, "content": "b", "next_step": "电话回访",
                          "next_step_due": str(today), "occurred_at": earlier})
    create_followup(world.ctx("rep2"), {"customer_id": world.customers["Rep2 Co"], "content": "c",
                                        "next_step": "别人的", "next_step_due": str(today)})
    rep1 = as_user("rep1")
    due = widget(rep1.get("/").text, "customers-due")
    assert "寄样品" in due and "电话回访" in due and "别人的" not in due
    assert due.index("寄样品") < due.index("电话回访")  # the oldest due first
    assert '<li class="overdue">' in due and "今天到期" in due
    # a newer follow-up closes the open next step
    create_followup(ctx, {"customer_id": second, "content": "样品已寄出"})
    due = widget(rep1.get("/").text, "customers-due")
    assert "寄样品" not in due and "电话回访" in due
    assert "别人的" in widget(as_user("rep2").get("/").text, "customers-due")


def test_no_customer_widgets_without_customer_access(world: World, as_user: Any, web_kernel: Any) -> None:
    from crm_core.services.roles import create_role, set_user_roles

    create_role(web_kernel.ctx(), "auditor", "审计", {"audit.read": None})
    set_user_roles(web_kernel.ctx(), "viewer", ["auditor"])
    page = as_user("viewer").get("/").text
    assert re.findall(r'id="widget-([\w-]+)"', page) == ["panelplug-widget"]
    assert 'action="/customers"' not in page and 'data-key="customers"' not in page


def test_the_menu_leads_to_the_customers(world: World, as_user: Any) -> None:
    rep1 = as_user("rep1")
    nav = rep1.get("/").text
    assert 'href="/customers" data-key="customers">客户</a>' in nav
    page = rep1.get(f"/customers/{world.customers['Rep1 Second']}").text
    assert 'href="/customers" data-key="customers" aria-current="page">客户</a>' in page
    assert 'data-key="customers">Customers</a>' in as_user("en_rep").get("/").text
