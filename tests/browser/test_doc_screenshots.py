"""The pictures of the getting-started guides (docs/stages/*.md), taken from a real growth-stage
instance with the demo data: the growth preset's plugins switched on as `crm init --preset growth`
does, `crm demo`'s loader (its users, customers and every plugin's demo data), uvicorn on loopback,
Debian's Chromium signing in as the demo roles with the passwords the loader gave them.

Each page is checked before it is photographed: its heading, and that the demo rows the signed-in
role may see (and only those) are on it. Screenshots always go to ``test-artifacts/screenshots/``
(``doc-*.png``); with ``CRM_DOC_SCREENSHOTS=1`` they are also written to ``docs/images/`` for the
guides::

    CRM_DOC_SCREENSHOTS=1 CRM_TEST_SKIP_PG=1 python -m pytest -q tests/browser/test_doc_screenshots.py

The guides also quote what `crm init --preset STAGE` answers; the last test runs it for every stage
and checks the quote is still true.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from browser_support import ARTIFACTS, PASSWORD, LiveServer, add_user, sign_in
from click.testing import CliRunner
from crm_leads.manifest import manifest as LEADS
from crm_leads.models import Lead
from crm_leads_pipeline.manifest import manifest as LEADS_PIPELINE
from crm_pipeline.manifest import manifest as PIPELINE
from crm_pipeline.models import Opportunity, Stage
from crm_tasks.manifest import manifest as TASKS
from crm_tasks.models import Task
from crm_tasks_leads.manifest import manifest as TASKS_LEADS
from sqlalchemy import func, select
from sqlmodel import col

from crm_core.cli.main import cli
from crm_core.cli.state import CliState
from crm_core.demo import load_demo
from crm_core.kernel import Kernel
from crm_core.models import Customer, User
from crm_core.plugin_system.manifest import Manifest
from crm_core.services.roles import seed_builtin_grants

DOCS = Path(__file__).resolve().parents[2] / "docs"
DOC_IMAGES = DOCS / "images"
INSTALLED: tuple[Manifest, ...] = (LEADS, PIPELINE, TASKS, LEADS_PIPELINE, TASKS_LEADS)
VIEWPORT = {"width": 1280, "height": 800}
MAX_HEIGHT = 1000  # a long page is cut here (small files): the guides show its top
SEED = 2026


@dataclass
class Growth:
    kernel: Kernel
    server: LiveServer
    passwords: dict[str, str]

    def user_id(self, login: str) -> int:
        with self.kernel.new_session() as s:
            uid = s.scalar(select(col(User.id)).where(col(User.login) == login))
        assert uid is not None, login
        return int(uid)


@pytest.fixture
def growth(make_kernel: Callable[..., Kernel]) -> Iterator[Growth]:
    stage = [m.name for m in INSTALLED if "growth" in m.stages]  # what the growth preset picks
    assert sorted(stage) == ["leads", "pipeline", "tasks"]
    kernel = make_kernel(plugins=list(INSTALLED), enabled=stage, scheduler_enabled=False)
    # the glue plugins come along once both of their sides are on, as with `crm init --preset`
    assert set(kernel.host.enabled(refresh=True)) >= {"leads", "pipeline", "tasks", "leads_pipeline",
                                                      "tasks_leads"}
    seed_builtin_grants(kernel.ctx())
    add_user(kernel, "admin", "admin", name="系统管理员 Administrator")
    result = load_demo(kernel, customers=80, seed=SEED)
    passwords = {a.user.login: a.password or "" for a in result.accounts}
    passwords["admin"] = PASSWORD
    server = LiveServer(kernel)
    server.start()
    yield Growth(kernel, server, passwords)
    server.stop()


def _save(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"doc-{name}.png"
    height = min(int(page.evaluate("document.documentElement.scrollHeight")), MAX_HEIGHT)
    page.screenshot(path=str(path), full_page=True, clip={"x": 0, "y": 0, "width": VIEWPORT["width"],
                                                          "height": max(height, VIEWPORT["height"])})
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("CRM_DOC_SCREENSHOTS") == "1":
        DOC_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOC_IMAGES / f"{name}.png")
    return path


def _signed_in(chromium: Any, g: Growth, login: str) -> Any:
    context = chromium.new_context(locale="zh-CN", viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in(page, g.server, login, g.passwords[login])
    return page


def _texts(page: Any, selector: str) -> list[str]:
    return [t.strip() for t in page.locator(selector).all_inner_texts()]


def test_growth_stage_pages_for_the_getting_started_guides(chromium: Any, growth: Growth) -> None:
    g, url = growth, growth.server.url
    rep_id = g.user_id("li.na")
    with g.kernel.new_session() as s:
        my_customers = s.scalar(select(func.count()).select_from(Customer)
                                .where(col(Customer.owner_id) == rep_id)) or 0
        my_leads = list(s.scalars(select(col(Lead.name)).where(col(Lead.owner_id) == rep_id)
                                  .order_by(col(Lead.id).desc())))
        my_opps = {o.id: o for o in s.scalars(select(Opportunity).where(col(Opportunity.owner_id) == rep_id))}
        stage_keys = dict(s.execute(select(col(Stage.id), col(Stage.key))).tuples().all())
        open_opp = s.scalars(select(Opportunity).where(col(Opportunity.owner_id) == rep_id,
                                                       col(Opportunity.status) == "open")
                             .order_by(col(Opportunity.id))).first()
        my_open_tasks = list(s.scalars(select(col(Task.title)).where(col(Task.assignee_id) == rep_id,
                                                                     col(Task.done_at).is_(None))))
    assert my_customers >= 5 and len(my_leads) >= 3 and my_opps and open_opp and my_open_tasks
    with g.kernel.new_session() as s:
        customer = s.get(Customer, open_opp.customer_id)
    assert customer is not None and customer.owner_id == rep_id

    # -- li.na, the rep, in Chinese ---------------------------------------------------------------
    page = _signed_in(chromium, g, "li.na")
    assert page.locator("h1").inner_text() == "欢迎，李娜"
    assert _texts(page, "nav.nav a") == ["首页", "客户", "线索", "销售机会", "销售预测", "任务"]
    widgets = _texts(page, ".widgets section.widget > h2")
    assert {"我的客户", "我的任务", "待跟进", "本月销售", "线索"} <= set(widgets)
    assert page.locator("section.widget", has_text="我的客户").locator("a").count() >= 1
    _save(page, "home-zh")

    page.goto(url + "/customers")
    assert page.locator("h1").inner_text() == "客户"
    rows = page.locator("table tbody tr")
    assert rows.count() == min(my_customers, 25)
    assert set(_texts(page, "table tbody td[data-label='负责人']")) == {"李娜"}  # her own only
    _save(page, "customers-list")

    page.goto(f"{url}/customers/{customer.id}")
    assert page.locator("h1").inner_text().startswith(customer.name)
    headings = _texts(page, "main h2")
    assert {"跟进记录", "销售机会", "未完成任务", "基本信息", "联系人"} <= set(headings)
    assert open_opp.name in page.locator("section.panel", has_text="销售机会").first.inner_text()
    assert page.get_by_role("button", name="保存跟进").count() == 1
    _save(page, "customer-360")

    page.goto(url + "/leads/")
    assert page.locator("h1").inner_text() == "线索"
    # her leads, newest first, 50 a page — and nobody else's
    assert _texts(page, "table tbody tr td:first-child a") == my_leads[:50]
    assert set(_texts(page, "table tbody tr td:nth-child(7)")) == {"李娜"}
    _save(page, "leads-list")

    page.goto(url + "/pipeline/")
    assert page.locator("h1").inner_text() == "销售机会"
    assert _texts(page, ".board-col h2") == ["线索 10%", "意向 30%", "方案 50%", "谈判 70%",
                                               "成交 100%", "丢单 0%"]
    cards = {int(i) for i in page.locator(".opp-card").evaluate_all("cs => cs.map(c => c.dataset.id)")}
    assert cards == set(my_opps)  # every one of hers, nobody else's
    card_stage = page.locator(f".opp-card[data-id='{open_opp.id}']").evaluate(
        "c => c.closest('.board-col').dataset.stage")
    assert card_stage == stage_keys[open_opp.stage_id]
    _save(page, "pipeline-board")

    page.goto(url + "/tasks/")
    assert page.locator("h1").inner_text() == "我的任务"
    listed = _texts(page, "li.task .task-title")
    assert listed and set(listed) <= set(my_open_tasks)
    assert {"已逾期", "今天", "即将到期"} <= {h.split(" (")[0] for h in _texts(page, "main h2")}
    _save(page, "my-tasks")
    page.context.close()

    # -- the manager (zhang.wei or chen.jie) of the rep whose large deal waits for approval -----
    with g.kernel.new_session() as s:
        pending = s.execute(select(col(Opportunity.name), col(User.login))
                            .join(User, col(User.id) == col(Opportunity.owner_id))
                            .where(col(Opportunity.approval_status) == "pending")).tuples().all()
    assert len(pending) == 1, "the demo leaves one large deal waiting for approval"
    deal, rep = pending[0]
    manager = {"li.na": "zhang.wei", "liu.yang": "chen.jie"}[rep]
    page = _signed_in(chromium, g, manager)
    assert "机会审批" in _texts(page, "nav.nav a")
    page.goto(url + "/pipeline/approvals")
    assert page.locator("h1").inner_text() == "待审批"
    assert deal in page.locator("main").inner_text()
    _save(page, "pipeline-approvals")
    page.context.close()

    # -- admin: the modules page shows the growth stage's modules on ------------------------------
    page = _signed_in(chromium, g, "admin")
    page.goto(url + "/admin/modules")
    assert page.locator("h1").inner_text() == "模块管理"
    for name in ("leads", "pipeline", "tasks", "leads_pipeline", "tasks_leads"):
        row = page.locator(f"#module-{name}")
        assert row.locator(".badge.on").inner_text() == "已启用", name
    assert "成长期" in page.locator("#module-leads").inner_text()
    _save(page, "admin-modules")
    page.context.close()

    # -- lucas.zhao, a rep whose language is English ----------------------------------------------
    page = _signed_in(chromium, g, "lucas.zhao")
    assert page.locator("h1").inner_text() == "Welcome, Lucas Zhao 赵磊"
    assert _texts(page, "nav.nav a") == ["Home", "Customers", "Leads", "Opportunities", "Forecast", "Tasks"]
    assert {"My customers", "My tasks", "Sales this month", "Leads"} <= set(
        _texts(page, ".widgets section.widget > h2"))
    _save(page, "home-en")
    page.context.close()


@pytest.mark.parametrize("stage", ["startup", "growth", "mature", "traditional"])
def test_stage_guides_quote_what_the_preset_answers(
    stage: str, tmp_path: Path, crm_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for var in ("CRM_CONFIG", "CRM_ADMIN_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    for var, value in {"CRM_DATABASE_URL": crm_database_url, "CRM_SECRETS_FILE": str(tmp_path / "s.json"),
                       "CRM_AUTOLOAD_PLUGINS": "false", "CRM_PLUGIN_REFRESH_SECONDS": "0"}.items():
        monkeypatch.setenv(var, value)
    result = CliRunner().invoke(cli, ["init", "--preset", stage, "--admin-password", "Admin-pass-2026"],
                                obj=CliState(plugins=INSTALLED))
    assert result.exit_code == 0, (result.output, result.exception)
    said = [line.strip() for line in result.stdout.splitlines() if line.lstrip().startswith(
        ("Preset ", "(also enabled"))]
    assert said and said[0].startswith(f"Preset {stage}:")
    guide = (DOCS / "stages" / f"{stage}.md").read_text(encoding="utf-8")
    for line in said:
        assert line in guide, f"docs/stages/{stage}.md no longer quotes: {line}"
