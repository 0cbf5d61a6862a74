"""The board in a real browser (Playwright + Debian's Chromium, the app served by uvicorn on
loopback): drag and drop through the JSON API, the keyboard-only Move form, a drop on Lost asking
for the reason, a drop on Won marking the customer won."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from crm_pipeline.services import create_opportunity, get_opportunity

from crm_core.services.customers import get_customer
from crm_core.testing_web import PASSWORD
from crm_core.web import create_app

CHROMIUM = os.environ.get("CRM_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"
pytestmark = pytest.mark.skipif(
    not (shutil.which(CHROMIUM) or Path(CHROMIUM).exists()) and os.environ.get("CI") != "true",
    reason=f"no Chromium at {CHROMIUM}")


@pytest.fixture
def server(crm_kernel: Any) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    srv = uvicorn.Server(uvicorn.Config(create_app(kernel=crm_kernel), host="127.0.0.1", port=port,
                                        log_level="warning", lifespan="on"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the test server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=20)


@pytest.fixture
def page(server: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"])
        context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
        pg = context.new_page()
        pg.set_default_timeout(15_000)
        yield pg
        context.close()
        browser.close()


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"pipeline-board-{name}.png"), full_page=True)


def _card_stage(page: Any, opp_id: int) -> str:
    return page.locator(f".opp-card[data-id='{opp_id}']").evaluate(
        "card => card.closest('.board-col').dataset.stage")


def test_board_drag_keyboard_lost_and_won(page: Any, server: str, people: Any) -> None:
    cust = people.customer("rep_a", name="浏览器测试客户")
    ctx = people.ctx("rep_a")
    a = create_opportunity(ctx, {"customer_id": cust.id, "name": "拖拽机会", "amount": "50000"})
    b = create_opportunity(ctx, {"customer_id": cust.id, "name": "键盘机会", "amount": "8000"})
    page.goto(server + "/login")
    page.fill("input[name=login]", "rep_a")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action=\"/login\"] button[type=submit]")
    page.wait_for_url(server + "/")
    page.goto(server + "/pipeline/")
    assert _card_stage(page, a.id) == "lead"
    _shot(page, "1-start")

    # drag and drop: moved through the API, the board reloads with the card in its new column
    with page.expect_navigation():
        page.drag_and_drop(f".opp-card[data-id='{a.id}']", "section[data-stage='proposal']")
    assert _card_stage(page, a.id) == "proposal"
    assert get_opportunity(ctx, a.id).stage == "proposal"

    # keyboard only: focus the card's Move select, arrow to "意向", Tab to the button, Enter
    page.focus(f"#move-{b.id}")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert get_opportunity(ctx, b.id).stage == "intent"
    assert _card_stage(page, b.id) == "intent"
    _shot(page, "2-moved")

    # a drop on Lost asks for the reason on the opportunity's page
    with page.expect_navigation():
        page.drag_and_drop(f".opp-card[data-id='{b.id}']", "section[data-stage='lost']")
    assert f"/pipeline/opportunities/{b.id}" in page.url
    assert page.locator("select[name=stage]").input_value() == "lost"
    page.click("#move button[type=submit].primary")
    page.wait_for_load_state()
    assert "请说明丢单原因" in page.locator("body").inner_text()
    page.fill("input[name=lost_reason]", "客户预算取消")
    with page.expect_navigation():
        page.click("#move form button[type=submit].primary")
    assert get_opportunity(ctx, b.id).status == "lost"
    _shot(page, "3-lost")

    # a drop on Won wins it and marks the customer won
    page.goto(server + "/pipeline/")
    with page.expect_navigation():
        page.drag_and_drop(f".opp-card[data-id='{a.id}']", "section[data-stage='won']")
    assert _card_stage(page, a.id) == "won"
    assert get_customer(ctx, cust.id).status == "won"
    _shot(page, "4-won")
