"""Re-authentication: one named action, five minutes, single use; header for bearer tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import update

from crm_core.db import utcnow
from crm_core.models import WebSession
from crm_core.services import auth as auth_svc
from crm_core.web import route


def confirm(client: Any, action: str, password: str = "correct-horse-battery", next: str = "/") -> Any:
    return client.submit("/reauth", {"action": action, "password": password, "next": next},
                         page=f"/reauth?action={action}")


def test_page_action_redirects_to_reauth_and_back(client: Any) -> None:
    client.login("admin")
    response = client.submit("/webplug/danger", {}, page="/webplug/")
    assert response.status_code == 303
    target = urlsplit(response.headers["location"])
    assert target.path == "/reauth"
    assert parse_qs(target.query) == {"action": ["webplug.admin"], "next": ["/webplug/"]}
    form = client.get(response.headers["location"])
    assert form.status_code == 200 and "管理插件" in form.text  # the action's label
    back = confirm(client, "webplug.admin", next="/webplug/")
    assert back.status_code == 303 and back.headers["location"] == "/webplug/"
    assert client.submit("/webplug/danger", {}, page="/webplug/").status_code == 200
    again = client.submit("/webplug/danger", {}, page="/webplug/")  # single use
    assert again.status_code == 303 and again.headers["location"].startswith("/reauth?")


def test_api_with_a_session_answers_reauth_required(client: Any) -> None:
    client.login("admin")
    token = client.csrf("/")
    refused = client.post("/api/v1/webplug/danger", headers={"X-CSRF-Token": token})
    assert refused.status_code == 403
    body = refused.json()
    assert body["type"].endswith("/reauth-required") and body["action"] == "webplug.admin"
    confirm(client, "webplug.admin")
    assert client.post("/api/v1/webplug/danger", headers={"X-CSRF-Token": token}).json() == {"done": True}
    assert client.post("/api/v1/webplug/danger", headers={"X-CSRF-Token": token}).status_code == 403


def test_reauth_is_for_one_named_action(client: Any) -> None:
    client.login("admin")
    confirm(client, "users.manage")
    response = client.submit("/webplug/danger", {}, page="/webplug/")
    assert response.headers["location"].startswith("/reauth?action=webplug.admin")


def test_reauth_expires_after_five_minutes(client: Any, web_kernel: Any) -> None:
    client.login("admin")
    confirm(client, "webplug.admin")
    with web_kernel.new_session(write=True) as s, s.begin():
        s.execute(update(WebSession).values(reauth_until=utcnow() - timedelta(seconds=1)))
    assert client.submit("/webplug/danger", {}, page="/webplug/").status_code == 303


def test_wrong_reauth_password_is_shown_and_throttled(client: Any, web_kernel: Any) -> None:
    client.login("admin")
    wrong = confirm(client, "webplug.admin", password="not-my-password")
    assert wrong.status_code == 200 and "密码错误" in wrong.text
    assert client.submit("/webplug/danger", {}, page="/webplug/").status_code == 303
    for _ in range(4):
        confirm(client, "webplug.admin", password="not-my-password")
    blocked = confirm(client, "webplug.admin")
    assert blocked.status_code == 429 and "失败次数过多" in blocked.text


def test_bearer_clients_reauthenticate_per_request(client: Any, web_kernel: Any) -> None:
    _row, token = auth_svc.create_token(web_kernel.ctx(), "admin")
    auth = {"Authorization": f"Bearer {token}"}
    refused = client.post("/api/v1/webplug/danger", headers=auth)
    assert refused.status_code == 403 and refused.json()["type"].endswith("/reauth-required")
    wrong = client.post("/api/v1/webplug/danger", headers={**auth, "X-Reauth-Password": "nope-nope"})
    assert wrong.status_code == 403
    ok = client.post("/api/v1/webplug/danger",
                     headers={**auth, "X-Reauth-Password": "correct-horse-battery"})
    assert ok.status_code == 200 and ok.json() == {"done": True}


def test_reauth_post_needs_a_session(client: Any, web_kernel: Any) -> None:
    _row, token = auth_svc.create_token(web_kernel.ctx(), "admin")
    response = client.post("/reauth", data={"action": "x", "password": "correct-horse-battery"},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422


def test_route_declared_reauth(make_site: Any, web_kernel: Any) -> None:
    from starlette.responses import PlainTextResponse

    site = make_site()

    def wipe(request: Any) -> PlainTextResponse:
        return PlainTextResponse("wiped")

    site.app.router.routes.insert(0, route("/-/wipe", wipe, permission="plugins.manage",
                                           methods=("GET", "POST"), reauth=True))
    client = site.client()
    client.login("admin")
    assert client.get("/-/wipe").text == "wiped"  # safe methods don't need it
    assert client.submit("/-/wipe", {}).status_code == 303
    confirm(client, "plugins.manage")
    assert client.submit("/-/wipe", {}).text == "wiped"


def test_route_builder_refuses_reauth_without_a_permission() -> None:
    with pytest.raises(ValueError, match="reauth"):
        route("/x", lambda r: None, public=True, reauth=True)
