"""[[ title ]]: the page, the API, the customer panel, the job, the event handler, translations."""

from __future__ import annotations

from datetime import timedelta

from crm_core.db import utcnow
from sqlalchemy import update

from [[ package ]] import services
from [[ package ]].manifest import manifest
from [[ package ]].models import Item


def test_page_is_in_the_menu_and_lists_the_items(crm_app, login_as, crm_factory):
    rep = login_as("sales_rep", locale="en")
    customer = crm_factory.customer(as_user=rep.user.login, name="Hangzhou Tea Co")
    home = rep.get("/")
    assert 'href="/[[ name ]]/"' in home.text
    page = rep.get("/[[ name ]]/")
    assert page.status_code == 200
    assert "Welcome call" in page.text  # added by the event handler
    assert f"/customers/{customer.id}" in page.text


def test_roles_without_the_permission_are_refused(crm_app, login_as):
    viewer = login_as("viewer")
    assert 'href="/[[ name ]]/"' not in viewer.get("/").text
    assert viewer.get("/[[ name ]]/").status_code == 403
    assert viewer.get("/api/v1/[[ name ]]/items").status_code == 403


def test_api_creates_and_lists_items_in_scope(crm_app, crm_factory):
    rep = crm_app.api_client("sales_rep")
    other = crm_app.api_client("sales_rep")
    mine = crm_factory.customer(as_user=rep.user.login)
    created = rep.post("/api/v1/[[ name ]]/items", json={"customer_id": mine.id, "title": "Send the quote"})
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "open"
    listed = rep.get("/api/v1/[[ name ]]/items", params={"customer_id": mine.id}).json()["items"]
    assert {i["title"] for i in listed} == {"Send the quote", "Welcome call"}
    # another rep sees neither the customer nor its items
    assert other.get("/api/v1/[[ name ]]/items").json()["items"] == []
    refused = other.post("/api/v1/[[ name ]]/items", json={"customer_id": mine.id, "title": "x"})
    assert refused.status_code == 404
    bad = rep.post("/api/v1/[[ name ]]/items", json={"customer_id": mine.id, "title": ""})
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")


def test_api_is_in_the_openapi_document(crm_app):
    doc = crm_app.api_client("sales_rep").get("/api/v1/openapi.json").json()
    assert "/api/v1/[[ name ]]/items" in doc["paths"]
    assert set(doc["paths"]["/api/v1/[[ name ]]/items"]) >= {"get", "post"}


def test_customer_page_shows_the_panel_in_both_languages(crm_app, crm_factory, login_as):
    zh = login_as("sales_rep")
    customer = crm_factory.customer(as_user=zh.user.login)
    assert "[[ title ]]：1 个未完成事项" in zh.get(f"/customers/{customer.id}").text
    en = login_as("admin", locale="en")
    assert "[[ title ]]: 1 open item(s)" in en.get(f"/customers/{customer.id}").text


def test_event_handler_runs_once_per_customer(crm_kernel, crm_factory):
    customer = crm_factory.customer()
    assert not services.welcome_new_customer(crm_kernel, customer.id, None)  # already there
    items = services.list_items(crm_kernel.ctx(), {"customer_id": customer.id})
    assert [i.title for i in items] == ["Welcome call"]


def test_nightly_job_closes_stale_items(crm_kernel, crm_factory):
    job, plugin = crm_kernel.jobs["[[ name ]].close_stale"]
    assert plugin == "[[ name ]]" and job.trigger == "cron"
    old, new = crm_factory.customer(), crm_factory.customer()
    with crm_kernel.new_session(write=True) as s, s.begin():
        s.execute(update(Item).where(Item.customer_id == old.id)
                  .values(created_at=utcnow() - timedelta(days=31)))
    assert job.func(crm_kernel, "test-run") == 1
    assert job.func(crm_kernel, "test-run-2") == 0
    ctx = crm_kernel.ctx()
    assert [i.status for i in services.list_items(ctx, {"customer_id": old.id})] == ["closed"]
    assert [i.status for i in services.list_items(ctx, {"customer_id": new.id})] == ["open"]


def test_runs_with_only_its_declared_dependencies(assert_runs_with_only_declared_dependencies):
    checked = assert_runs_with_only_declared_dependencies(manifest)
    assert checked["tables"] == ["[[ name ]]_item"]
    assert "/[[ name ]]/" in checked["routes"]


def test_manifest_is_compatible_with_this_core(crm_kernel):
    assert manifest.compatible_with(crm_kernel.version)
    assert crm_kernel.host.loaded() == ["[[ name ]]"]
