"""Customers, contacts and follow-ups through /api/v1: CRUD, ETag / If-Match, lists, filters."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from api_support import REAUTH, all_items

from crm_core.kernel import Kernel
from crm_core.models import Customer
from crm_core.services.custom_fields import create_field

H = dict[str, str]


def new_customer(client: Any, headers: H, **fields: Any) -> dict[str, Any]:
    response = client.post("/api/v1/customers", json={"name": "华东贸易有限公司", **fields}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def version_of(kernel: Kernel, customer_id: int) -> int:
    with kernel.new_session() as s:
        row = s.get(Customer, customer_id)
        assert row is not None
        return row.version


def test_customer_lifecycle_with_etags(client: Any, auth: Callable[[str], H], web_kernel: Kernel) -> None:
    admin = auth("admin")
    made = client.post("/api/v1/customers", headers=admin, json={
        "name": "星海科技有限公司", "industry": "I", "source": "referral",
        "contacts": [{"name": "李雷", "phone": "138 0013 8000", "email": "li.lei@example.com"}]})
    assert made.status_code == 201
    body = made.json()
    assert made.headers["location"] == f"/api/v1/customers/{body['id']}"
    assert made.headers["etag"] == 'W/"1"' and body["version"] == 1
    assert made.headers["content-type"] == "application/json"
    url = made.headers["location"]

    read = client.get(url, headers=admin)
    assert read.status_code == 200 and read.json()["name"] == "星海科技有限公司"
    assert read.headers["etag"] == 'W/"1"'
    contacts = client.get(f"{url}/contacts", headers=admin).json()["items"]
    assert [(c["name"], c["phone"], c["is_primary"]) for c in contacts] == [("李雷", "13800138000", True)]

    changed = client.request("PATCH", url, json={"status": "won"}, headers={**admin, "If-Match": 'W/"1"'})
    assert changed.status_code == 200, changed.text
    assert changed.json()["status"] == "won" and changed.headers["etag"] == 'W/"2"'
    plain_tag = client.request("PATCH", url, json={"remark": "大客户"}, headers={**admin, "If-Match": '"2"'})
    assert plain_tag.status_code == 200 and plain_tag.headers["etag"] == 'W/"3"'

    stale = client.request("DELETE", url, headers={**admin, **REAUTH, "If-Match": 'W/"1"'})
    assert stale.status_code == 412 and stale.json()["current_version"] == 3
    gone = client.request("DELETE", url, headers={**admin, **REAUTH, "If-Match": 'W/"3"'})
    assert gone.status_code == 204 and gone.content == b""
    missing = client.get(url, headers=admin)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


def test_update_needs_if_match_and_a_current_version(client: Any, auth: Callable[[str], H],
                                                     web_kernel: Kernel) -> None:
    admin = auth("admin")
    c = new_customer(client, admin)
    url = f"/api/v1/customers/{c['id']}"
    missing = client.request("PATCH", url, json={"remark": "x"}, headers=admin)
    assert missing.status_code == 428
    assert missing.json()["type"] == "https://mosaic-crm.dev/problems/precondition-required"
    stale = client.request("PATCH", url, json={"remark": "x"}, headers={**admin, "If-Match": 'W/"7"'})
    assert stale.status_code == 412
    assert stale.json()["type"].endswith("/precondition-failed") and stale.json()["current_version"] == 1
    for nonsense in ('"abc"', "W/1", "3"):
        response = client.request("PATCH", url, json={"remark": "x"}, headers={**admin, "If-Match": nonsense})
        assert response.status_code == 412, nonsense
    two = client.request("PATCH", url, json={"remark": "x"}, headers={**admin, "If-Match": 'W/"1", W/"2"'})
    assert two.status_code == 400
    assert version_of(web_kernel, c["id"]) == 1  # nothing was written
    star = client.request("PATCH", url, json={"remark": "y"}, headers={**admin, "If-Match": "*"})
    assert star.status_code == 200 and star.json()["version"] == 2


def test_version_comes_from_if_match_never_from_the_body(client: Any, auth: Callable[[str], H],
                                                         web_kernel: Kernel) -> None:
    admin = auth("admin")
    c = new_customer(client, admin)
    url = f"/api/v1/customers/{c['id']}"
    response = client.request("PATCH", url, json={"remark": "x", "version": 1},
                              headers={**admin, "If-Match": 'W/"1"'})
    assert response.status_code == 422
    assert response.json()["errors"] == {"version": ["this field cannot be set here"]}


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/api/v1/customers", {"name": "甲公司", "owner_id": 1}),
    ("POST", "/api/v1/customers", {"name": "甲公司", "code": "C20200101001"}),
    ("POST", "/api/v1/customers", {"name": "甲公司", "version": 5}),
    ("POST", "/api/v1/customers", {"name": "甲公司", "created_by_id": 1}),
    ("POST", "/api/v1/customers", {"name": "甲公司", "contacts": [{"name": "张三", "customer_id": 9}]}),
    ("PATCH", "/api/v1/customers/{id}", {"owner_id": 1}),
    ("PATCH", "/api/v1/customers/{id}", {"code": "C20200101001"}),
    ("PATCH", "/api/v1/customers/{id}", {"id": 99}),
    ("POST", "/api/v1/contacts", {"customer_id": "{id}", "name": "王五", "version": 3}),
    ("POST", "/api/v1/followups", {"customer_id": "{id}", "content": "拜访", "user_id": 1}),
])
def test_mass_assignment_is_refused(client: Any, auth: Callable[[str], H], web_kernel: Kernel,
                                    method: str, path: str, body: dict[str, Any]) -> None:
    rep = auth("rep")
    c = new_customer(client, rep)
    body = {k: (c["id"] if v == "{id}" else v) for k, v in body.items()}
    before = c["version"], c["owner_id"], c["code"]
    response = client.request(method, path.format(id=c["id"]), json=body,
                              headers={**rep, "If-Match": 'W/"1"'})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["type"].endswith("/validation-error")
    assert any("cannot be set here" in m for msgs in problem["errors"].values() for m in msgs)
    after = client.get(f"/api/v1/customers/{c['id']}", headers=rep).json()
    assert (after["version"], after["owner_id"], after["code"]) == before


def test_validation_errors_name_the_fields(client: Any, auth: Callable[[str], H]) -> None:
    response = client.post("/api/v1/customers", headers=auth("admin"), json={
        "name": "", "status": "sleeping", "contacts": [{"name": "张三", "phone": "12345"}]})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert set(errors) == {"name", "status", "contacts.0.phone"}
    not_json = client.post("/api/v1/customers", headers={**auth("admin"), "Content-Type": "application/json"},
                           content=b"{not json")
    assert not_json.status_code == 422 and not_json.json()["errors"] == {"body": ["not valid JSON"]}
    nul = client.post("/api/v1/customers", headers=auth("admin"), json={"name": "A\x00B"})
    assert nul.status_code == 422 and "name" in nul.json()["errors"]
    form = client.post("/api/v1/customers", headers=auth("admin"), data={"name": "x"})
    assert form.status_code == 415


def test_unknown_query_parameters_are_refused_by_name(client: Any, auth: Callable[[str], H]) -> None:
    admin = auth("admin")
    for path, param in (("/api/v1/customers", "statu"), ("/api/v1/customers", "owner_id"),
                        ("/api/v1/customers/count", "sort"), ("/api/v1/followups", "q"),
                        ("/api/v1/roles", "limit"), ("/api/v1/customers/1", "fields"),
                        ("/api/v1/customers", "custom.nope"), ("/api/v1/audit", "customer_id")):
        response = client.get(path, params={param: "1"}, headers=admin)
        assert response.status_code == 400, (path, param, response.text)
        problem = response.json()
        assert problem["type"].endswith("/bad-request") and problem["parameter"] == param
        assert repr(param) in problem["detail"]
    twice = client.get("/api/v1/customers?status=won&status=potential", headers=admin)
    assert twice.status_code == 400 and twice.json()["parameter"] == "status"
    sort = client.get("/api/v1/customers", params={"sort": "phone"}, headers=admin)
    assert sort.status_code == 400 and sort.json()["parameter"] == "sort"
    bad_value = client.get("/api/v1/customers", params={"limit": "500", "created_from": "yesterday"},
                           headers=admin)
    assert bad_value.status_code == 422 and set(bad_value.json()["errors"]) == {"limit", "created_from"}


def test_keyset_pages_cover_every_row_once(client: Any, auth: Callable[[str], H], web_kernel: Kernel) -> None:
    admin = auth("admin")
    names = ["乙", "甲", "丙", "甲", "乙", "丁", "甲"] * 3  # ties in the sort key
    made = {new_customer(client, admin, name=n, status="won" if i % 3 else "potential")["id"]
            for i, n in enumerate(names)}
    request = client.request
    for sort in ("id", "-id", "name", "-name", "created_at", "-updated_at", "code"):
        items = all_items(request, "/api/v1/customers", admin, sort=sort, limit=4)
        assert {i["id"] for i in items} == made, sort
        keys = [(i[sort.lstrip("-")], i["id"]) for i in items]
        assert keys == sorted(keys, reverse=sort.startswith("-")), sort
    won = all_items(request, "/api/v1/customers", admin, status="won", limit=3)
    assert len(won) == sum(1 for i in range(len(names)) if i % 3)
    first = client.get("/api/v1/customers", params={"limit": 5}, headers=admin).json()
    assert first["limit"] == 5 and len(first["items"]) == 5 and first["next_cursor"]
    default = client.get("/api/v1/customers", headers=admin).json()
    assert default["limit"] == 50 and default["next_cursor"] is None
    tampered = client.get("/api/v1/customers", params={"cursor": "bm9wZQ"}, headers=admin)
    assert tampered.status_code == 422 and "cursor" in tampered.json()["errors"]


def test_owner_me_and_count(client: Any, auth: Callable[[str], H]) -> None:
    admin, rep = auth("admin"), auth("rep")
    mine = {new_customer(client, rep)["id"] for _ in range(3)}
    theirs = {new_customer(client, admin)["id"] for _ in range(2)}
    request = client.request
    assert {i["id"] for i in all_items(request, "/api/v1/customers", admin, owner="me")} == theirs
    assert {i["id"] for i in all_items(request, "/api/v1/customers", rep)} == mine  # own scope
    assert client.get("/api/v1/customers/count", headers=admin).json() == {"count": 5, "exact": True}
    assert client.get("/api/v1/customers/count", params={"owner": "me"}, headers=rep).json()["count"] == 3
    bad_owner = client.get("/api/v1/customers", params={"owner": "someone"}, headers=admin)
    assert bad_owner.status_code == 422


def test_custom_field_filters(client: Any, auth: Callable[[str], H], web_kernel: Kernel) -> None:
    create_field(web_kernel.ctx(), {"entity": "customer", "key": "budget", "label": "预算",
                                    "type": "number"})
    create_field(web_kernel.ctx(), {"entity": "customer", "key": "tier", "label": "等级",
                                    "type": "choice", "options": ["A", "B"]})
    admin = auth("admin")
    ids = {b: new_customer(client, admin, custom={"budget": b, "tier": "A" if b > 50 else "B"})["id"]
           for b in (10, 50, 90)}
    request = client.request

    def found(**params: Any) -> set[int]:
        return {i["id"] for i in all_items(request, "/api/v1/customers", admin, **params)}

    assert found(**{"custom.budget.min": 20}) == {ids[50], ids[90]}
    assert found(**{"custom.budget.min": 20, "custom.budget.max": 60}) == {ids[50]}
    assert found(**{"custom.tier": "B"}) == {ids[10], ids[50]}
    counted = client.get("/api/v1/customers/count", params={"custom.budget": 90}, headers=admin)
    assert counted.json()["count"] == 1
    for bad in ("custom.tier.min", "custom.budget.avg", "custom.colour"):
        response = client.get("/api/v1/customers", params={bad: "1"}, headers=admin)
        assert response.status_code == 400 and response.json()["parameter"] == bad
    both = client.get("/api/v1/customers", params={"custom.budget": 1, "custom.budget.min": 2}, headers=admin)
    assert both.status_code == 400
    wrong = client.get("/api/v1/customers", params={"custom.budget.min": "lots"}, headers=admin)
    assert wrong.status_code == 422 and "custom.budget" in wrong.json()["errors"]


def test_empty_custom_filters_are_refused(client: Any, auth: Callable[[str], H], web_kernel: Kernel) -> None:
    """Found by schemathesis: an empty multi-choice filter made the service fail (500)."""
    create_field(web_kernel.ctx(), {"entity": "customer", "key": "tags", "label": "标签",
                                    "type": "multi_choice", "options": ["x", "y"]})
    admin = {**auth("admin"), **REAUTH}
    new_customer(client, admin, custom={"tags": ["x"]})
    for path in ("/api/v1/customers", "/api/v1/customers/count", "/api/v1/customers/export"):
        for value in ("", "  "):
            response = client.get(path, params={"custom.tags": value}, headers=admin)
            assert response.status_code == 422, (path, response.text)
            assert response.json()["errors"] == {"custom.tags": [
                "give a value (leave the parameter out to not filter)"]}
    tagged = client.get("/api/v1/customers/count", params={"custom.tags": "x"}, headers=admin)
    assert tagged.json()["count"] == 1


def test_contacts_and_followups(client: Any, auth: Callable[[str], H]) -> None:
    rep = auth("rep")
    c = new_customer(client, rep)
    contact = client.post("/api/v1/contacts", headers=rep, json={
        "customer_id": c["id"], "name": "韩梅梅", "phone": "13912345678", "id_number": "11010119900307002X"})
    assert contact.status_code == 201, contact.text
    k = contact.json()
    assert contact.headers["location"] == f"/api/v1/contacts/{k['id']}"
    assert k["phone"] == "13912345678" and k["id_number"] == "110***********002X"  # rep: no ID numbers
    upd = client.request("PATCH", f"/api/v1/contacts/{k['id']}", json={"title": "采购经理"},
                         headers={**rep, "If-Match": contact.headers["etag"]})
    assert upd.status_code == 200 and upd.json()["title"] == "采购经理"

    for text in ("初次电话", "上门拜访", "发送报价"):
        made = client.post("/api/v1/followups", headers=rep, json={
            "customer_id": c["id"], "contact_id": k["id"], "content": text, "method": "visit"})
        assert made.status_code == 201, made.text
    timeline = client.get(f"/api/v1/customers/{c['id']}/followups", params={"limit": 2}, headers=rep).json()
    assert [f["content"] for f in timeline["items"]] == ["发送报价", "上门拜访"]
    rest = client.get(f"/api/v1/customers/{c['id']}/followups",
                      params={"cursor": timeline["next_cursor"]}, headers=rep).json()
    assert [f["content"] for f in rest["items"]] == ["初次电话"] and rest["next_cursor"] is None
    everything = client.get("/api/v1/followups", params={"customer_id": c["id"]}, headers=rep).json()
    assert len(everything["items"]) == 3
    fid = everything["items"][0]["id"]
    future = client.request("PATCH", f"/api/v1/followups/{fid}", json={"occurred_at": "2999-01-01T00:00:00Z"},
                            headers={**rep, "If-Match": 'W/"1"'})
    assert future.status_code == 422 and "occurred_at" in future.json()["errors"]
    ancient = client.post("/api/v1/followups", headers=rep, json={
        "customer_id": c["id"], "content": "x", "occurred_at": "0001-01-01T00:00:00+08:00"})
    assert ancient.status_code == 422
    assert client.request("DELETE", f"/api/v1/contacts/{k['id']}", headers=rep).status_code == 204
    # a rep may not delete follow-ups at all (no followups.delete)
    assert client.request("DELETE", f"/api/v1/followups/{fid}", headers=rep).status_code == 403


def test_assign_owner(client: Any, auth: Callable[[str], H]) -> None:
    admin = auth("admin")
    rep_id = client.get("/api/v1/me", headers=auth("rep")).json()["id"]
    ids = [new_customer(client, admin)["id"] for _ in range(2)]
    assign = "/api/v1/customers/assign"
    done = client.post(assign, headers=admin, json={"customer_ids": ids, "owner_id": rep_id})
    assert done.status_code == 200 and done.json() == {"assigned": 2}
    assert {i["owner_id"] for i in all_items(client.request, "/api/v1/customers", admin)} == {rep_id}
    refused = client.post(assign, headers=auth("rep"),
                          json={"customer_ids": ids, "owner_id": rep_id})
    assert refused.status_code == 403
    unknown = client.post(assign, headers=admin, json={"customer_ids": [99999], "owner_id": rep_id})
    assert unknown.status_code == 404
    huge = client.post(assign, headers=admin, json={"customer_ids": [2**40], "owner_id": rep_id})
    assert huge.status_code == 422


def test_out_of_range_ids_are_not_found(client: Any, auth: Callable[[str], H]) -> None:
    for path in (f"/api/v1/customers/{2**40}", "/api/v1/customers/0", f"/api/v1/contacts/{10**30}"):
        response = client.get(path, headers=auth("admin"))
        assert response.status_code == 404, path


def test_export_streams_csv_and_json_lines(client: Any, auth: Callable[[str], H]) -> None:
    admin = {**auth("admin"), **REAUTH}
    new_customer(client, admin, name="=HYPERLINK(\"http://evil\")", remark="普通备注")
    new_customer(client, admin, name="第二家公司", custom={})
    csv_answer = client.get("/api/v1/customers/export", headers=admin)
    assert csv_answer.status_code == 200
    assert csv_answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert csv_answer.headers["content-disposition"].startswith('attachment; filename="customers-')
    lines = csv_answer.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("id,code,name,") and len(lines) == 3
    assert "'=HYPERLINK" in lines[1] and "第二家公司" in lines[2]
    jl = client.get("/api/v1/customers/export", params={"format": "jsonl", "q": "第二家"}, headers=admin)
    assert jl.headers["content-type"].startswith("application/x-ndjson")
    rows = [json.loads(line) for line in jl.text.splitlines() if line]
    assert [r["name"] for r in rows] == ["第二家公司"] and rows[0]["custom"] == {}


def test_anonymous_gets_401_problems(client: Any) -> None:
    for method, path in (("GET", "/api/v1/customers"), ("POST", "/api/v1/customers"),
                         ("GET", "/api/v1/openapi.json"), ("DELETE", "/api/v1/customers/1"),
                         ("GET", "/api/v1/docs")):
        response = client.request(method, path)
        assert response.status_code == 401, path
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"] == 'Bearer realm="crm"'
