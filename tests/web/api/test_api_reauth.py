"""Sensitive API actions need the password again: per request with a bearer token
(``X-Reauth-Password``), once per confirmation with a browser session."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from api_support import PASSWORD, REAUTH

from crm_core.kernel import Kernel
from crm_core.services.customers import create_customer

H = dict[str, str]

# (method, path, body, the action to confirm)
ACTIONS = [
    ("DELETE", "/api/v1/customers/{id}", None, "customers.delete"),
    ("GET", "/api/v1/customers/export", None, "customers.export"),
    ("PUT", "/api/v1/roles/viewer/grants", {"grants": {"customers.read": "all"}}, "roles.manage"),
    ("PUT", "/api/v1/users/viewer/roles", {"roles": ["viewer"]}, "roles.manage"),
    ("POST", "/api/v1/roles", {"name": "auditor{n}", "label": "审计{n}", "grants": {"audit.read": None}},
     "roles.manage"),
    ("POST", "/api/v1/plugins/webplug/disable", None, "plugins.manage"),
    ("POST", "/api/v1/users/viewer/disable", None, "users.manage"),
]


def confirm(client: Any, action: str) -> None:
    response = client.submit("/reauth", {"action": action, "password": PASSWORD, "next": "/"},
                             page=f"/reauth?action={action}")
    assert response.status_code == 303, response.text


class Target:
    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.n = 0

    def __call__(self, method: str, path: str, body: Any) -> tuple[str, Any]:
        self.n += 1
        if "{id}" in path:
            path = path.format(id=create_customer(self.kernel.ctx(), {"name": f"客户{self.n}"}).id)
        if body is not None and "{n}" in str(body):
            body = {k: (v.format(n=self.n) if isinstance(v, str) else v) for k, v in body.items()}
        return path, body


def expected_status(method: str) -> int:
    return {"DELETE": 204, "POST": 200, "PUT": 200, "GET": 200}[method]


@pytest.mark.parametrize(("method", "path", "body", "action"), ACTIONS, ids=[a[1] for a in ACTIONS])
def test_bearer_clients_send_the_password_with_each_request(
        client: Any, auth: Callable[[str], H], web_kernel: Kernel, method: str, path: str,
        body: Any, action: str) -> None:
    target = Target(web_kernel)
    admin = auth("admin")
    url, data = target(method, path, body)
    refused = client.request(method, url, json=data, headers=admin)
    assert refused.status_code == 403
    problem = refused.json()
    assert problem["type"].endswith("/reauth-required") and problem["action"] == action
    wrong = client.request(method, url, json=data, headers={**admin, "X-Reauth-Password": "not-it-at-all"})
    assert wrong.status_code == 403 and wrong.json()["type"].endswith("/reauth-required")
    ok = client.request(method, url, json=data, headers={**admin, **REAUTH})
    expected = 201 if (method, path) == ("POST", "/api/v1/roles") else expected_status(method)
    assert ok.status_code == expected, ok.text


@pytest.mark.parametrize(("method", "path", "body", "action"), ACTIONS, ids=[a[1] for a in ACTIONS])
def test_a_browser_confirmation_is_good_for_one_request(
        client: Any, web_kernel: Kernel, method: str, path: str, body: Any, action: str) -> None:
    target = Target(web_kernel)
    client.login("admin")
    csrf = {"X-CSRF-Token": client.csrf("/")}
    url, data = target(method, path, body)
    refused = client.request(method, url, json=data, headers=csrf)
    assert refused.status_code == 403 and refused.json()["action"] == action
    confirm(client, "users.manage" if action != "users.manage" else "roles.manage")  # another action
    assert client.request(method, url, json=data, headers=csrf).status_code == 403
    confirm(client, action)
    first = client.request(method, url, json=data, headers=csrf)
    assert first.status_code in (200, 201, 204), first.text
    url, data = target(method, path, body)
    if action == "plugins.manage":
        url = "/api/v1/plugins/webplug/enable"
    again = client.request(method if action != "plugins.manage" else "POST", url, json=data, headers=csrf)
    assert again.status_code == 403 and again.json()["type"].endswith("/reauth-required")


def test_a_malformed_export_does_not_use_up_the_confirmation(client: Any) -> None:
    client.login("admin")
    confirm(client, "customers.export")
    assert client.get("/api/v1/customers/export", params={"colour": "red"}).status_code == 400
    assert client.get("/api/v1/customers/export", params={"format": "xlsx"}).status_code == 422
    assert client.get("/api/v1/customers/export").status_code == 200
    assert client.get("/api/v1/customers/export").status_code == 403


def test_without_the_permission_the_password_does_not_help(client: Any, auth: Callable[[str], H],
                                                          web_kernel: Kernel) -> None:
    cid = create_customer(web_kernel.ctx(), {"name": "客户"}).id
    rep = {**auth("rep"), **REAUTH}
    assert client.request("DELETE", f"/api/v1/customers/{cid}", headers=rep).json()["type"].endswith(
        "/permission-denied")
    assert client.get("/api/v1/customers/export", headers=rep).status_code == 403
    assert client.post("/api/v1/plugins/webplug/disable", headers=rep).status_code == 403


def test_wrong_passwords_are_throttled(client: Any, auth: Callable[[str], H]) -> None:
    admin = auth("admin")
    for _ in range(5):
        wrong = client.get("/api/v1/customers/export", headers={**admin, "X-Reauth-Password": "nope-nope"})
        assert wrong.status_code == 403
    throttled = client.get("/api/v1/customers/export", headers={**admin, **REAUTH})
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
    assert throttled.json()["type"].endswith("/too-many-attempts")
