"""In a real browser (Playwright + Debian's Chromium, the app served by uvicorn on loopback): a
visitor leaves details on the public web form, the rep the rules chose finds the lead, sees why it
is theirs, and converts it into a customer with an opportunity."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from crm_leads.services.rules import create_rule
from crm_leads.services.webform import create_token
from crm_pipeline.models import Opportunity
from sqlalchemy import select

from crm_core.kernel import Kernel
from crm_core.services.users import create_team, set_membership
from crm_core.testing_web import PASSWORD, Factories
from crm_core.web import create_app

CHROMIUM = os.environ.get("CRM_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(
    not shutil.which(CHROMIUM) and os.environ.get("CI") != "true", reason=f"no Chromium at {CHROMIUM}")


@pytest.fixture
def served(crm_kernel: Kernel) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(create_app(kernel=crm_kernel), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the test server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=20)


@pytest.fixture
def page() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        pg = context.new_page()
        pg.set_default_timeout(15_000)
        yield pg
        context.close()
        browser.close()


def test_web_form_lead_to_customer_and_opportunity(crm_kernel: Kernel, crm_factory: Factories,
                                                  served: str, page: Any) -> None:
    rep = crm_factory.user("sales_rep", login="li.na", display_name="李娜")
    sys = crm_kernel.ctx()
    create_team(sys, "华东销售一组")
    set_membership(sys, "华东销售一组", "li.na", True)
    with crm_kernel.new_session() as s:
        from crm_core.models import Team

        team_id = s.scalar(select(Team.id))
    create_rule(sys, {"name": "官网线索轮询", "action": "round_robin", "team_id": team_id})
    token = create_token(sys, "官网咨询", "website", 5).token

    page.goto(f"{served}/leads/form/{token}")  # a visitor, not signed in
    page.fill("input[name=name]", "周先生")
    page.fill("input[name=company]", "杭州云帆科技有限公司")
    page.fill("input[name=phone]", "13905712345")
    page.click("form.public-form button[type=submit]")
    page.wait_for_selector("text=谢谢")

    page.goto(f"{served}/login")
    page.fill("input[name=login]", rep.login)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action=\"/login\"] button[type=submit]")
    page.wait_for_url(f"{served}/")
    page.goto(f"{served}/leads/")
    page.click("text=周先生")
    page.wait_for_selector("text=官网线索轮询")  # why the lead is theirs
    page.click("text=转为客户")
    page.check("input[name=pipeline_create]")
    page.fill("input[name=pipeline_amount]", "36000")
    page.click("form button.primary")
    page.wait_for_url(f"{served}/customers/*")
    page.wait_for_selector("text=转化自线索")
    assert "杭州云帆科技有限公司" in page.content()
    with crm_kernel.new_session() as s:
        opp = s.scalar(select(Opportunity))
    assert opp is not None and str(opp.amount) in ("36000", "36000.00") and opp.owner_id == rep.id
