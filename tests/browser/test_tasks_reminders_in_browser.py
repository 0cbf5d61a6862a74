"""A rep's reminders in a real browser: a customer left alone too long becomes a reminder (the
tasks plugin's rule, as its job runs it); the header shows the unread notification, opening it
leads to the customer, and the task is completed from "my tasks"."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from browser_support import LiveServer, add_user, sign_in
from crm_tasks.manifest import manifest as TASKS
from crm_tasks.services.rules import run_stale_rule
from sqlalchemy import update

from crm_core.db import utcnow
from crm_core.kernel import Kernel
from crm_core.models import Customer
from crm_core.services.customers import create_customer
from crm_core.services.roles import seed_builtin_grants
from crm_core.services.users import actor_for


@pytest.fixture
def tasks_server(make_kernel: Callable[..., Kernel]) -> Iterator[tuple[Kernel, LiveServer]]:
    kernel = make_kernel(plugins=[TASKS], enabled=["tasks"], scheduler_enabled=False)
    seed_builtin_grants(kernel.ctx())
    server = LiveServer(kernel)
    server.start()
    yield kernel, server
    server.stop()


def test_rep_sees_and_completes_the_reminder_for_a_neglected_customer(
    page: Any, tasks_server: tuple[Kernel, LiveServer], shot: Any
) -> None:
    kernel, server = tasks_server
    add_user(kernel, "li.na", "sales_rep", name="李娜")
    rep = kernel.ctx(actor_for(kernel.ctx(), "li.na"), "web")
    cid = create_customer(rep, {"name": "苏州恒通精密机械有限公司"}).id
    with kernel.new_session(write=True) as s, s.begin():
        s.execute(update(Customer).where(Customer.id == cid).values(
            last_followup_at=utcnow() - timedelta(days=5)))
    assert len(run_stale_rule(kernel.ctx())) == 1

    sign_in(page, server, "li.na")
    badge = page.locator("a.notif-link .badge")
    assert badge.inner_text() == "1"
    shot("badge")
    page.locator("a.notif-link").click()
    page.wait_for_url(server.url + "/notifications")
    item = page.locator("li.notification.unread")
    assert "跟进客户：苏州恒通精密机械有限公司" in item.inner_text()
    item.get_by_role("button").first.click()
    page.wait_for_url(re.compile(rf"/customers/{cid}$"))
    assert page.locator("a.notif-link .badge").count() == 0
    panel = page.locator("[id='panel-tasks.customer']")
    assert "跟进客户：苏州恒通精密机械有限公司" in panel.inner_text()
    shot("customer-with-task-panel")

    page.goto(server.url + "/tasks/")
    row = page.locator("li.task", has_text="苏州恒通精密机械有限公司")
    assert row.count() == 1
    row.get_by_role("button", name="完成").click()
    page.wait_for_url(server.url + "/tasks/")
    assert page.locator("li.task", has_text="苏州恒通精密机械有限公司").count() == 0
    shot("task-done")
