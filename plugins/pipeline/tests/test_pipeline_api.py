"""/api/v1/pipeline: CRUD with ETag / If-Match, keyset list, move, win / lose, approvals,
pipelines and stages, forecast, OpenAPI."""

from __future__ import annotations

from crm_core.services.auth import create_token
from crm_core.testing_web import Client

API = "/api/v1/pipeline"


def _token_client(crm_app, login: str) -> Client:
    _row, raw = create_token(crm_app.kernel.ctx(), login, "test")
    return crm_app.client(headers={"Authorization": f"Bearer {raw}"})


def test_crud_with_etag_and_if_match(crm_app, people):
    cust = people.customer("rep_a")
    c = _token_client(crm_app, "rep_a")
    r = c.post(f"{API}/opportunities", json={"customer_id": cust.id, "name": "API deal",
                                             "amount": "1500.50", "stage": "intent"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["amount"] == "1500.50" and body["probability"] == 30 and body["stage"] == "intent"
    assert r.headers["etag"] == 'W/"1"' and r.headers["location"].endswith(f"/opportunities/{body['id']}")
    one = f"{API}/opportunities/{body['id']}"
    assert c.get(one).headers["etag"] == 'W/"1"'
    assert c.request("PATCH", one, json={"name": "x"}).status_code == 428
    r = c.request("PATCH", one, json={"name": "Renamed"}, headers={"If-Match": 'W/"1"'})
    assert r.status_code == 200 and r.json()["name"] == "Renamed" and r.headers["etag"] == 'W/"2"'
    stale = c.request("PATCH", one, json={"name": "Again"}, headers={"If-Match": 'W/"1"'})
    assert stale.status_code == 412 and stale.json()["current_version"] == 2
    assert c.request("PATCH", one, json={"owner_id": 1, "status": "won"},
                   headers={"If-Match": 'W/"2"'}).status_code == 422  # not mass-assignable
    assert c.post(f"{one}/move", json={"stage": "proposal"},
                  headers={"If-Match": 'W/"1"'}).status_code == 412
    moved = c.post(f"{one}/move", json={"stage": "proposal"}, headers={"If-Match": 'W/"2"'})
    assert moved.status_code == 200 and moved.json()["stage"] == "proposal"
    lost = c.post(f"{one}/move", json={"stage": "lost"})
    assert lost.status_code == 422 and "lost_reason" in lost.json()["errors"]
    hist = c.get(f"{one}/history").json()["items"]
    assert [h["stage"] for h in hist] == ["intent", "proposal"]
    assert c.request("DELETE", one).status_code == 403  # reps do not delete
    mgr = _token_client(crm_app, "mgr_east")
    assert mgr.request("DELETE", one, headers={"If-Match": 'W/"1"'}).status_code == 412
    assert mgr.request("DELETE", one).status_code == 204
    assert c.get(one).status_code == 404


def test_list_filters_win_lose_and_access(crm_app, people):
    rep_a, rep_s = _token_client(crm_app, "rep_a"), _token_client(crm_app, "rep_s")
    a = rep_a.post(f"{API}/opportunities", json={"customer_id": people.customer("rep_a").id,
                                                 "name": "A", "amount": "100"}).json()
    s = rep_s.post(f"{API}/opportunities", json={"customer_id": people.customer("rep_s").id,
                                                 "name": "S", "amount": "200"}).json()
    assert [o["id"] for o in rep_a.get(f"{API}/opportunities").json()["items"]] == [a["id"]]
    assert rep_a.get(f"{API}/opportunities/{s['id']}").status_code == 404
    assert rep_a.post(f"{API}/opportunities/{s['id']}/win").status_code == 404
    bad = rep_a.get(f"{API}/opportunities?colour=red")
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/problem+json")
    assert rep_a.get(f"{API}/opportunities?status=maybe").status_code == 422
    admin = _token_client(crm_app, "admin")
    page = admin.get(f"{API}/opportunities?limit=1&sort=amount").json()
    assert [o["id"] for o in page["items"]] == [a["id"]] and page["next_cursor"]
    nxt = admin.get(f"{API}/opportunities?limit=1&sort=amount&cursor={page['next_cursor']}").json()
    assert [o["id"] for o in nxt["items"]] == [s["id"]] and nxt["next_cursor"] is None
    won = rep_a.post(f"{API}/opportunities/{a['id']}/win")
    assert won.status_code == 200 and won.json()["status"] == "won"
    assert rep_s.post(f"{API}/opportunities/{s['id']}/lose", json={"reason": ""}).status_code == 422
    lost = rep_s.post(f"{API}/opportunities/{s['id']}/lose", json={"reason": "预算取消"})
    assert lost.json()["status"] == "lost" and lost.json()["lost_reason"] == "预算取消"


def test_approval_endpoints(crm_app, people):
    admin = _token_client(crm_app, "admin")
    r = admin.request("PATCH", f"{API}/pipelines/default", json={"approval_threshold": "10000"})
    assert r.status_code == 200 and r.json()["approval_threshold"] == "10000.00"
    rep = _token_client(crm_app, "rep_a")
    opp = rep.post(f"{API}/opportunities", json={"customer_id": people.customer("rep_a").id,
                                                 "name": "Big", "amount": "20000"}).json()
    one = f"{API}/opportunities/{opp['id']}"
    refused = rep.post(f"{one}/win")
    assert refused.status_code == 409 and refused.json()["type"].endswith("approval-required")
    assert rep.post(f"{one}/approvals", json={"comment": "please"}).status_code == 201
    south = _token_client(crm_app, "mgr_south")
    assert south.post(f"{one}/approvals/decision", json={"approve": True}).status_code == 404
    assert rep.post(f"{one}/approvals/decision", json={"approve": True}).status_code == 403
    east = _token_client(crm_app, "mgr_east")
    assert [o["id"] for o in east.get(f"{API}/approvals/pending").json()["items"]] == [opp["id"]]
    ok = east.post(f"{one}/approvals/decision", json={"approve": True, "comment": "ok"})
    assert ok.status_code == 200 and ok.json()["status"] == "approved"
    assert [a["status"] for a in rep.get(f"{one}/approvals").json()["items"]] == ["approved"]
    assert rep.post(f"{one}/win").json()["status"] == "won"


def test_pipelines_and_stages_admin(crm_app, people):
    admin = _token_client(crm_app, "admin")
    pipes = admin.get(f"{API}/pipelines").json()["items"]
    assert [(s["key"], s["name"], s["name_en"], s["probability"]) for s in pipes[0]["stages"]] == [
        ("lead", "线索", "Lead", 10), ("intent", "意向", "Intent", 30), ("proposal", "方案", "Proposal", 50),
        ("negotiation", "谈判", "Negotiation", 70), ("won", "成交", "Won", 100), ("lost", "丢单", "Lost", 0)]
    r = admin.post(f"{API}/pipelines/default/stages",
                   json={"key": "contract", "name": "合同", "name_en": "Contract", "probability": 90})
    assert r.status_code == 201 and r.json()["position"] == 4
    keys = [s["key"] for s in admin.get(f"{API}/pipelines/default").json()["stages"]]
    assert keys == ["lead", "intent", "proposal", "negotiation", "contract", "won", "lost"]
    assert admin.post(f"{API}/pipelines/default/stages",
                      json={"key": "won2", "name": "赢", "kind": "won"}).status_code == 422
    off = admin.request("PATCH", f"{API}/pipelines/default/stages/won", json={"active": False})
    assert off.status_code == 422
    rep = _token_client(crm_app, "rep_a")
    assert rep.post(f"{API}/pipelines/default/stages", json={"key": "x", "name": "x"}).status_code == 403
    made = admin.post(f"{API}/pipelines", json={"key": "projects", "name": "项目型销售",
                                                "name_en": "Projects"})
    assert made.status_code == 201 and len(made.json()["stages"]) == 7
    opp = rep.post(f"{API}/opportunities", json={"customer_id": people.customer("rep_a").id,
                                                 "name": "P", "pipeline": "projects"}).json()
    assert opp["stage"] == "lead" and opp["pipeline_id"] == made.json()["id"]


def test_openapi_documents_the_plugin(crm_app, people):
    admin = _token_client(crm_app, "admin")
    doc = admin.get("/api/v1/openapi.json").json()
    ops = {op["operationId"] for path in doc["paths"].values() for op in path.values()}
    assert {"pipeline.listOpportunities", "pipeline.createOpportunity", "pipeline.moveOpportunity",
            "pipeline.decideApproval", "pipeline.forecast"} <= ops
    assert "/api/v1/pipeline/opportunities/{id}" in doc["paths"]
