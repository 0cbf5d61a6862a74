"""Loyalty points: awarded when an opportunity is won (through the pipeline plugin's services
and its opportunity.won event), shown on the customer page and in the API, expired nightly."""

from __future__ import annotations

from datetime import timedelta

from crm_loyalty import services
from crm_loyalty.manifest import manifest

from crm_core.db import utcnow
from crm_core.services.users import actor_for


def won(kernel, login: str, customer_id: int, amount: str, name: str = "年度采购") -> int:
    from crm_pipeline.services import create_opportunity, win_opportunity

    ctx = kernel.ctx(actor_for(kernel.ctx(), login))
    opp = create_opportunity(ctx, {"customer_id": customer_id, "name": name, "amount": amount})
    win_opportunity(ctx, opp.id)
    return opp.id


def test_points_for_amounts():
    assert services.points_for("12800.00") == 128
    assert services.points_for("99.99") == 0
    assert services.points_for(None) == 0 and services.points_for("nonsense") == 0
    assert services.points_for("-500") == 0 and services.points_for("NaN") == 0


def test_winning_an_opportunity_awards_points_once(crm_kernel, crm_factory):
    rep = crm_factory.user("sales_rep")
    customer = crm_factory.customer(as_user=rep.login)
    opp_id = won(crm_kernel, rep.login, customer.id, "12800")
    ctx = crm_kernel.ctx()
    got = services.balance(ctx, customer.id)
    assert got.balance == 128 and got.entries[0].opportunity_id == opp_id
    # the same event delivered again (a retry) awards nothing more
    payload = {"id": opp_id, "customer_id": customer.id, "amount": "12800", "name": "again"}
    assert services.award_for_won_opportunity(crm_kernel, payload) == 0
    won(crm_kernel, rep.login, customer.id, "250.50", name="加购")
    assert services.balance(ctx, customer.id).balance == 130


def test_an_event_emitted_directly_is_enough(crm_kernel, crm_factory):
    """Only the event contract matters: emit opportunity.won like the pipeline does."""
    from crm_core.services.base import record

    customer = crm_factory.customer()
    ctx = crm_kernel.ctx()
    with ctx.uow() as s:
        record(ctx, s, action="test.win", entity="pipeline.opportunity", entity_id=991, changes={},
               event="opportunity.won", payload={"id": 991, "customer_id": customer.id, "owner_id": None,
                                                 "name": "直接事件", "amount": "1000.00", "currency": "CNY",
                                                 "stage": "won"})
    assert services.balance(ctx, customer.id).balance == 10


def test_panel_and_api_respect_record_scope(crm_app, crm_factory, login_as):
    rep = login_as("sales_rep", locale="en")
    customer = crm_factory.customer(as_user=rep.user.login)
    won(crm_app.kernel, rep.user.login, customer.id, "5000")
    page = rep.get(f"/customers/{customer.id}").text
    assert "Loyalty balance: 50 points" in page and "Loyalty points" in page
    zh = login_as("admin")
    assert "积分余额：50 分" in zh.get(f"/customers/{customer.id}").text
    api = crm_app.api_client("sales_rep")
    assert api.get(f"/api/v1/loyalty/customers/{customer.id}").status_code == 404  # not its customer
    owner_api = rep.get(f"/api/v1/loyalty/customers/{customer.id}")
    assert owner_api.status_code == 200 and owner_api.json()["balance"] == 50
    assert login_as("viewer").get(f"/api/v1/loyalty/customers/{customer.id}").status_code == 403
    doc = api.get("/api/v1/openapi.json").json()
    assert "/api/v1/loyalty/customers/{customer_id}" in doc["paths"]


def test_nightly_job_expires_points_after_a_year(crm_kernel, crm_factory):
    job, plugin = crm_kernel.jobs["loyalty.expire_points"]
    assert plugin == "loyalty" and job.trigger == "cron" and job.trigger_args["hour"] == 2
    customer = crm_factory.customer()
    long_ago = utcnow() - timedelta(days=400)
    services.award_for_won_opportunity(crm_kernel, {"id": 1, "customer_id": customer.id, "amount": "700"},
                                       now=long_ago)
    services.award_for_won_opportunity(crm_kernel, {"id": 2, "customer_id": customer.id, "amount": "300"})
    ctx = crm_kernel.ctx()
    assert services.balance(ctx, customer.id).balance == 10
    assert job.func(crm_kernel, "nightly-1") == 1
    assert job.func(crm_kernel, "nightly-2") == 0
    after = services.balance(ctx, customer.id)
    assert after.balance == 3 and [e.expired for e in after.entries] == [False, True]


def test_runs_with_only_pipeline(assert_runs_with_only_declared_dependencies):
    from crm_pipeline.manifest import manifest as pipeline

    checked = assert_runs_with_only_declared_dependencies(manifest, available=[pipeline])
    assert checked["enabled"] == ["pipeline", "loyalty"] and checked["tables"] == ["loyalty_entry"]
