"""Security headers on every response, autoescaping, body limit, no leaked tracebacks."""

from __future__ import annotations

from typing import Any

import pytest

from crm_core.services.customers import create_customer
from crm_core.web.security import CSP, SECURITY_HEADERS

REQUESTS = [
    ("GET", "/login", 200),
    ("GET", "/-/health", 200),
    ("GET", "/", 303),  # anonymous → sign-in
    ("GET", "/api/v1/me", 401),
    ("GET", "/no/such/page", 404),
    ("GET", "/api/v1/no/such/thing", 404),
    ("DELETE", "/login", 405),
    ("POST", "/login", 403),  # no CSRF token
    ("GET", "/static/crm.css", 200),
    ("GET", "/static/missing.css", 404),
    ("GET", "/static/webplug/webplug.css", 200),
]


def assert_secured(response: Any) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (response.request.url, name)


@pytest.mark.parametrize(("method", "path", "status"), REQUESTS)
def test_security_headers_on_every_response(client: Any, method: str, path: str, status: int) -> None:
    response = client.request(method, path)
    assert response.status_code == status
    assert_secured(response)


def test_security_headers_on_signed_in_pages_and_errors(client: Any) -> None:
    client.login("admin")
    for path in ("/", "/webplug/", "/webplug/boom", "/api/v1/webplug/boom", "/api/v1/webplug/fail/conflict"):
        assert_secured(client.get(path))


def test_csp_allows_no_inline_script_or_style() -> None:
    assert "unsafe-inline" not in CSP and "unsafe-eval" not in CSP
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'",
                      "img-src 'self' data:", "frame-ancestors 'none'"):
        assert directive in CSP
    assert SECURITY_HEADERS["X-Frame-Options"] == "DENY"


def test_pages_are_not_cached_but_static_files_may_be(client: Any) -> None:
    assert client.get("/login").headers["cache-control"] == "no-store"
    assert "cache-control" not in client.get("/static/crm.css").headers


def test_templates_autoescape_user_data(site: Any, web_kernel: Any, client: Any) -> None:
    from crm_core.services.users import actor_for

    admin = actor_for(web_kernel.ctx(), "admin")
    evil = '<script>alert("x")</script>'
    customer = create_customer(web_kernel.ctx(admin), {"name": evil, "type": "enterprise"})
    client.login("admin")
    html = client.get(f"/webplug/customer/{customer.id}").text
    assert evil not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


def test_display_name_is_escaped_in_the_layout(client: Any, make_user: Any) -> None:
    make_user("mallory", "viewer", name="<img src=x onerror=alert(1)>")
    client.login("mallory")
    html = client.get("/").text
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_templates_have_no_inline_scripts_or_styles() -> None:
    from pathlib import Path

    import crm_core.web

    for template in (Path(crm_core.web.__file__).parent / "templates").glob("*.html"):
        text = template.read_text()
        assert "<script" not in text and "style=" not in text and "<style" not in text, template


def test_unhandled_error_leaks_nothing(client: Any, caplog: pytest.LogCaptureFixture) -> None:
    client.login("rep")
    api = client.get("/api/v1/webplug/boom")
    assert api.status_code == 500
    assert api.headers["content-type"] == "application/problem+json"
    body = api.json()
    assert body["type"].endswith("/internal-error") and body["error_id"]
    assert "hunter2" not in api.text and "Traceback" not in api.text
    assert body["error_id"] in caplog.text and "hunter2" in caplog.text  # the log has it all
    page = client.get("/webplug/boom")
    assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
    assert "hunter2" not in page.text and "Traceback" not in page.text
    assert "出错了" in page.text  # the rep's language


def test_request_body_limit(make_site: Any) -> None:
    client = make_site(max_body_size=1000).client()
    response = client.post("/api/v1/webplug/items", content=b"x" * 5000,
                           headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["type"].endswith("/payload-too-large")
    assert_secured(response)
    ok = client.post("/api/v1/webplug/items", content=b"[]", headers={"content-type": "application/json"})
    assert ok.status_code == 401  # small enough: on to authentication
