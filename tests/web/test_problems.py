"""Errors: problem+json on the API, an error page in the user's language elsewhere."""

from __future__ import annotations

from typing import Any

import pytest

from crm_core.services import auth as auth_svc
from crm_core.web.errors import PROBLEM_BASE


def token_client(site: Any, kernel: Any, login: str = "rep") -> Any:
    _row, token = auth_svc.create_token(kernel.ctx(), login)
    return site.client(headers={"Authorization": f"Bearer {token}"})


def assert_problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == PROBLEM_BASE + slug
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body


@pytest.mark.parametrize(("kind", "status", "slug", "extra"), [
    ("conflict", 409, "conflict", {"current_version": 3}),
    ("precondition", 412, "precondition-failed", {"current_version": 4}),
    ("missing", 404, "not-found", {}),
])
def test_domain_errors(site: Any, web_kernel: Any, kind: str, status: int, slug: str,
                       extra: dict[str, Any]) -> None:
    body = assert_problem(token_client(site, web_kernel).get(f"/api/v1/webplug/fail/{kind}"), status, slug)
    assert body["instance"] == f"/api/v1/webplug/fail/{kind}"
    for k, v in extra.items():
        assert body[k] == v
    assert "errors" not in body


def test_validation_error_lists_errors_per_field(site: Any, web_kernel: Any) -> None:
    body = assert_problem(token_client(site, web_kernel).get("/api/v1/webplug/fail/validation"),
                          422, "validation-error")
    assert body["errors"] == {"phone": ["not a valid phone number"]}
    assert body["title"] == "Unprocessable Content" and body["detail"] == "invalid input"


def test_invalid_json_body(site: Any, web_kernel: Any) -> None:
    response = token_client(site, web_kernel).post("/api/v1/webplug/items", content=b"{nope",
                                                    headers={"content-type": "application/json"})
    assert assert_problem(response, 422, "validation-error")["errors"] == {"body": ["not valid JSON"]}


def test_anonymous_forbidden_unknown_and_wrong_method(site: Any, web_kernel: Any) -> None:
    anonymous = site.client()
    body = assert_problem(anonymous.get("/api/v1/webplug/items"), 401, "unauthenticated")
    assert "Bearer" in body["detail"]
    viewer = token_client(site, web_kernel, "viewer")
    assert_problem(viewer.get("/api/v1/webplug/items"), 403, "permission-denied")
    assert_problem(viewer.get("/api/v1/nothing/here"), 404, "not-found")
    response = viewer.request("DELETE", "/api/v1/me")
    assert_problem(response, 405, "method-not-allowed")
    assert "GET" in response.headers["allow"]


def test_internal_error(site: Any, web_kernel: Any) -> None:
    body = assert_problem(token_client(site, web_kernel).get("/api/v1/webplug/boom"), 500, "internal-error")
    assert set(body) == {"type", "title", "status", "detail", "instance", "error_id"}


def test_error_pages_speak_the_users_language(client: Any) -> None:
    client.login("en_user")
    page = client.get("/webplug/nothing")
    assert page.status_code == 404 and "Page not found" in page.text
    assert page.headers["content-type"].startswith("text/html")
    assert 'class="topbar"' in page.text and "Eve English" in page.text  # the layout, signed in
    client.login("rep")
    assert "页面不存在" in client.get("/webplug/nothing").text


def test_error_page_for_anonymous_follows_the_browser(client: Any) -> None:
    page = client.get("/no/such/page", headers={"Accept-Language": "en"})
    assert page.status_code == 404 and "Page not found" in page.text


def test_validation_error_page_shows_the_fields(client: Any) -> None:
    client.login("en_user")
    page = client.submit("/-/locale", {"locale": "klingon"})
    assert page.status_code == 422 and page.headers["content-type"].startswith("text/html")
    assert "Please check your input" in page.text
    assert "<strong>locale</strong>: one of zh_CN, en" in page.text


def test_reauth_redirect_ignores_a_foreign_referer(client: Any) -> None:
    client.login("admin")
    response = client.submit("/webplug/danger", {}, page="/webplug/",
                             headers={"Referer": "https://evil.example/webplug/"})
    assert response.headers["location"] == "/reauth?action=webplug.admin&next=%2F"
