"""The plugin as a module: runs with only its declared dependencies, disabling hides its pages,
API, menu, panel and widget but keeps the data, re-enabling restores everything; demo data."""

from __future__ import annotations

from crm_pipeline.manifest import manifest
from crm_pipeline.services import create_opportunity, get_opportunity
from crm_pipeline.services.approvals import pending_approvals
from crm_pipeline.services.forecast import dashboard_figures
from crm_pipeline.services.queries import list_opportunities

from crm_core.demo import load_demo
from crm_core.services import plugins as plugins_svc
from crm_core.testing_web import Client


def test_runs_with_only_its_declared_dependencies(assert_runs_with_only_declared_dependencies):
    assert manifest.depends == ()
    checked = assert_runs_with_only_declared_dependencies(manifest)
    assert checked["enabled"] == ["pipeline"]
    assert {"pipeline_opportunity", "pipeline_stage", "pipeline_pipeline"} <= set(checked["tables"])
    assert "/pipeline/" in checked["routes"] and "/api/v1/pipeline/forecast" in checked["routes"]


def test_disable_hides_everything_keeps_data_and_enable_restores(crm_app, people):
    cust = people.customer("rep_a", name="可关闭模块测试客户")
    opp = create_opportunity(people.ctx("rep_a"), {"customer_id": cust.id, "name": "保留的机会"})
    c: Client = crm_app.client()
    assert c.login("rep_a").status_code == 303
    urls = ["/pipeline/", "/pipeline/list", f"/pipeline/opportunities/{opp.id}",
            "/api/v1/pipeline/opportunities", f"/api/v1/pipeline/opportunities/{opp.id}"]
    assert all(c.get(u).status_code == 200 for u in urls)
    assert "保留的机会" in c.get(f"/customers/{cust.id}").text
    assert 'href="/pipeline/"' in c.get("/").text

    plugins_svc.disable(crm_app.kernel.ctx(), ["pipeline"])
    assert [c.get(u).status_code for u in urls] == [404] * len(urls)
    customer_page = c.get(f"/customers/{cust.id}")
    assert customer_page.status_code == 200 and "保留的机会" not in customer_page.text
    home = c.get("/").text
    assert 'href="/pipeline/"' not in home and "本月成交" not in home
    doc = c.get("/api/v1/openapi.json").json()
    assert not any(p.startswith("/api/v1/pipeline") for p in doc["paths"])

    plugins_svc.enable(crm_app.kernel.ctx(), ["pipeline"])
    assert all(c.get(u).status_code == 200 for u in urls)
    assert get_opportunity(people.ctx("rep_a"), opp.id).name == "保留的机会"
    assert "保留的机会" in c.get(f"/customers/{cust.id}").text


def test_demo_data(crm_kernel):
    from crm_core.services.users import actor_for

    load_demo(crm_kernel, customers=60, seed=7)
    admin = crm_kernel.ctx()
    items, cursor = [], None
    while True:
        page = list_opportunities(admin, {"limit": 200, "cursor": cursor})
        items += page.items
        cursor = page.next_cursor
        if not cursor:
            break
    assert 100 <= len(items) <= 130
    assert {o.status for o in items} == {"open", "won", "lost"}
    assert {o.stage for o in items if o.status == "open"} >= {"lead", "intent", "proposal", "negotiation"}
    assert all(o.lost_reason for o in items if o.status == "lost")
    pending = [o for o in items if o.approval_status == "pending"]
    assert len(pending) == 1
    manager = "zhang.wei" if pending[0].owner_id == actor_for(admin, "li.na").id else "chen.jie"
    mgr = crm_kernel.ctx(actor_for(admin, manager))
    assert [o.id for o in pending_approvals(mgr).items] == [pending[0].id]
    from crm_core.services.customers import local_today

    won_now = dashboard_figures(admin, local_today())["rows"][0]
    assert won_now["won_count"] >= 5 and won_now["won_amount"] > 0
    owners = {o.owner_id for o in items}
    sellers = {actor_for(admin, login).id for login in
               ("zhang.wei", "li.na", "wang.fang", "chen.jie", "liu.yang", "lucas.zhao")}
    assert owners <= sellers and len(owners) >= 4
