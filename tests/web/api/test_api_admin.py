"""Users, teams, roles, custom fields, modules and the audit log through /api/v1."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api_support import REAUTH, all_items

from crm_core.kernel import Kernel
from crm_core.services.users import authenticate

H = dict[str, str]


def test_users(client: Any, auth: Callable[[str], H], web_kernel: Kernel) -> None:
    admin = {**auth("admin"), **REAUTH}
    made = client.post("/api/v1/users", headers=admin, json={
        "login": "Zhang.Wei", "password": "a-long-password", "display_name": "张伟",
        "email": "Zhang.Wei@Example.com", "roles": ["sales_rep"]})
    assert made.status_code == 201, made.text
    user = made.json()
    assert made.headers["location"] == "/api/v1/users/zhang.wei"
    assert (user["login"], user["email"], user["roles"], user["is_active"]) == (
        "zhang.wei", "zhang.wei@example.com", ["sales_rep"], True)
    assert "password" not in made.text and "password_hash" not in made.text
    taken = client.post("/api/v1/users", headers=admin, json={"login": "zhang.wei", "password": "x" * 8})
    assert taken.status_code == 422 and "login" in taken.json()["errors"]
    short = client.post("/api/v1/users", headers=admin, json={"login": "li", "password": "short"})
    assert short.status_code == 422 and "password" in short.json()["errors"]

    logins = [u["login"] for u in all_items(client.request, "/api/v1/users", admin, limit=2)]
    assert logins == sorted(["admin", "rep", "viewer", "en_user", "zhang.wei"])
    assert [u["login"] for u in all_items(client.request, "/api/v1/users", admin, q="zhang")] == ["zhang.wei"]

    url = "/api/v1/users/zhang.wei"
    read = client.get(url, headers=admin)
    etag = read.headers["etag"]
    changed = client.request("PATCH", url, json={"display_name": "张伟（华东）", "locale": "en"},
                             headers={**admin, "If-Match": etag})
    assert changed.status_code == 200 and changed.json()["locale"] == "en"
    stale = client.request("PATCH", url, json={"display_name": "x"}, headers={**admin, "If-Match": etag})
    assert stale.status_code == 412
    password = client.request("PUT", url + "/password", json={"password": "another-long-one"}, headers=admin)
    assert password.status_code == 204
    assert authenticate(web_kernel.ctx(), "zhang.wei", "another-long-one") is not None
    assert client.request("PUT", url + "/roles", json={"roles": ["viewer", "marketing"]},
                      headers=admin).json()["roles"] == ["marketing", "viewer"]
    assert client.post(url + "/disable", headers=admin).json()["is_active"] is False
    assert client.post(url + "/enable", headers=admin).json()["is_active"] is True
    assert client.get("/api/v1/users/nobody", headers=admin).status_code == 404

    rep = auth("rep")
    assert client.get("/api/v1/users", headers=rep).status_code == 403
    own = client.get("/api/v1/users/rep/access", headers=rep)
    assert own.status_code == 200
    lines = {a["action"]: a for a in own.json()["access"]}
    assert lines["customers.read"]["scope"] == "own" and not lines["users.manage"]["allowed"]
    assert client.get("/api/v1/users/admin/access", headers=rep).status_code == 403


def test_teams_and_membership(client: Any, auth: Callable[[str], H]) -> None:
    admin = auth("admin")
    made = client.post("/api/v1/teams", headers=admin, json={"name": "华东/一组", "manager": "admin"})
    assert made.status_code == 201, made.text
    team = made.json()
    url = made.headers["location"]
    assert url == f"/api/v1/teams/{team['id']}" and team["members"] == []
    assert client.request("PUT", f"{url}/members/rep", headers=admin).json()["members"] == ["rep"]
    added = client.request("PUT", f"{url}/members/viewer", headers=admin)
    assert added.json()["members"] == ["rep", "viewer"]
    assert client.request("DELETE", f"{url}/members/rep", headers=admin).json()["members"] == ["viewer"]
    assert client.request("PUT", f"{url}/members/nobody", headers=admin).status_code == 404
    assert [t["name"] for t in client.get("/api/v1/teams", headers=admin).json()["items"]] == ["华东/一组"]
    duplicate = client.post("/api/v1/teams", headers=admin, json={"name": "华东/一组"})
    assert duplicate.status_code == 422
    assert client.get("/api/v1/teams", headers=auth("rep")).status_code == 403
    assert client.get("/api/v1/teams/999", headers=admin).status_code == 404


def test_roles_and_grants(client: Any, auth: Callable[[str], H]) -> None:
    admin = {**auth("admin"), **REAUTH}
    roles = {r["name"]: r for r in client.get("/api/v1/roles", headers=admin).json()["items"]}
    assert {"admin", "sales_rep", "viewer"} <= set(roles)
    assert roles["sales_rep"]["grants"]["customers.read"] == "own" and roles["sales_rep"]["builtin"]
    made = client.post("/api/v1/roles", headers=admin, json={
        "name": "auditor", "label": "审计员", "grants": {"audit.read": None, "customers.read": "all"}})
    assert made.status_code == 201 and made.headers["location"] == "/api/v1/roles/auditor"
    bad = client.request("PUT", "/api/v1/roles/auditor/grants", headers=admin,
                     json={"grants": {"customers.read": None, "no.such": "all"}})
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"customers.read", "no.such"}
    grants = "/api/v1/roles/auditor/grants"
    scope = client.request("PUT", grants, headers=admin, json={"grants": {"customers.read": "galaxy"}})
    assert scope.status_code == 422
    done = client.request("PUT", grants, headers=admin, json={"grants": {"customers.read": "team"}})
    assert done.status_code == 200 and done.json()["grants"] == {"customers.read": "team"}
    assert client.get("/api/v1/roles/auditor", headers=admin).json()["version"] == 2
    assert client.get("/api/v1/roles/ghost", headers=admin).status_code == 404
    assert client.get("/api/v1/roles", headers=auth("rep")).status_code == 403


def test_custom_fields(client: Any, auth: Callable[[str], H]) -> None:
    admin, rep = auth("admin"), auth("rep")
    made = client.post("/api/v1/custom-fields", headers=admin, json={
        "entity": "customer", "key": "budget", "label": "预算", "label_en": "Budget", "type": "decimal",
        "min_value": "0"})
    assert made.status_code == 201, made.text
    field = made.json()
    assert client.post("/api/v1/custom-fields", headers=rep, json={
        "entity": "customer", "key": "x", "label": "x", "type": "text"}).status_code == 403
    listed = client.get("/api/v1/custom-fields", params={"entity": "customer"}, headers=rep).json()["items"]
    assert [f["key"] for f in listed] == ["budget"]  # readable by everyone signed in
    url = made.headers["location"]
    first = {**admin, "If-Match": made.headers["etag"]}
    off = client.request("PATCH", url, json={"active": False}, headers=first)
    assert off.status_code == 200 and off.json()["active"] is False
    stale = client.request("PATCH", url, json={"label": "x"}, headers=first)
    assert stale.status_code == 412
    assert client.get("/api/v1/custom-fields", headers=rep).json()["items"] == []
    all_fields = client.get("/api/v1/custom-fields", params={"include_inactive": "true"}, headers=rep).json()
    assert [f["id"] for f in all_fields["items"]] == [field["id"]]
    bad = client.post("/api/v1/custom-fields", headers=admin, json={
        "entity": "invoice", "key": "Bad Key", "label": "x", "type": "colour"})
    assert bad.status_code == 422 and {"key", "type"} <= set(bad.json()["errors"])


def test_plugins(client: Any, auth: Callable[[str], H]) -> None:
    admin = {**auth("admin"), **REAUTH}
    listed = client.get("/api/v1/plugins", headers=admin).json()["items"]
    assert [(p["name"], p["enabled"], p["status"]) for p in listed] == [("webplug", True, "loaded")]
    plan = client.get("/api/v1/plugins/webplug/disable-plan", headers=admin)
    assert plan.json() == {"plugins": ["webplug"]}
    assert client.get("/api/v1/webplug/items", headers=admin).status_code == 200
    off = client.post("/api/v1/plugins/webplug/disable", headers=admin, json={"cascade": False})
    assert off.status_code == 200 and off.json() == {"plugins": ["webplug"]}
    assert client.get("/api/v1/webplug/items", headers=admin).status_code == 404
    on = client.post("/api/v1/plugins/webplug/enable", headers=admin)
    assert on.status_code == 200 and on.json() == {"plugins": ["webplug"]}
    assert client.get("/api/v1/webplug/items", headers=admin).status_code == 200
    for path in ("/api/v1/plugins/nosuch/enable", "/api/v1/plugins/core/disable"):
        assert client.post(path, headers=admin).status_code == 404, path
    assert client.get("/api/v1/plugins", headers=auth("rep")).status_code == 403


def test_audit_log(client: Any, auth: Callable[[str], H]) -> None:
    admin = auth("admin")
    for i in range(3):
        client.post("/api/v1/customers", headers=admin, json={"name": f"公司{i}"})
    entries = all_items(client.request, "/api/v1/audit", admin, entity="customer", limit=2)
    assert [e["action"] for e in entries] == ["customer.create"] * 3
    assert {e["interface"] for e in entries} == {"api"} and entries[0]["id"] > entries[-1]["id"]
    prefix = client.get("/api/v1/audit", params={"action": "customer.", "actor": "admin"}, headers=admin)
    assert len(prefix.json()["items"]) == 3
    assert client.get("/api/v1/audit", headers=auth("rep")).status_code == 403
