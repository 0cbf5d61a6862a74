"""Sign-in, server-side sessions, sign-out, revocation, throttling and CSRF."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from crm_core.db import utcnow
from crm_core.models import LoginFailure, WebSession
from crm_core.services import auth as auth_svc
from crm_core.services.auth import hash_token
from crm_core.services.users import set_active, set_password


def sessions(kernel: Any) -> list[WebSession]:
    with kernel.new_session() as s:
        return list(s.scalars(select(WebSession)))


def failures(kernel: Any, login: str) -> int:
    with kernel.new_session() as s:
        stmt = select(func.count()).select_from(LoginFailure).where(LoginFailure.login == login)
        return s.scalar(stmt) or 0


def test_login_opens_a_server_side_session(client: Any, web_kernel: Any) -> None:
    response = client.login("admin", next="/webplug/")
    assert response.status_code == 303 and response.headers["location"] == "/webplug/"
    cookie = response.headers["set-cookie"]
    assert "crm_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Path=/" in cookie and "Secure" not in cookie  # plain http in this test
    token = client.session_cookie
    rows = sessions(web_kernel)
    assert [r.id for r in rows] == [hash_token(token)]  # only the hash is stored
    assert rows[0].user_agent and rows[0].csrf_secret
    assert client.get("/").status_code == 200


def test_cookie_is_secure_over_https(site: Any) -> None:
    client = site.client(base_url="https://crm.test")
    response = client.login("admin")
    assert response.status_code == 303
    assert "Secure" in response.headers["set-cookie"]


def test_login_regenerates_the_session(client: Any, web_kernel: Any) -> None:
    client.login("rep")
    first = client.session_cookie
    client.login("admin")
    second = client.session_cookie
    assert first and second and first != second
    assert [r.id for r in sessions(web_kernel)] == [hash_token(second)]  # the old one is gone
    old = client.site.client(cookies={"crm_session": first})
    assert old.get("/").status_code == 303


def test_wrong_password_is_shown_and_counted(client: Any, web_kernel: Any) -> None:
    response = client.login("rep", "wrong-password")
    assert response.status_code == 200
    assert "用户名或密码错误" in response.text
    assert 'value="rep"' in response.text  # the login is kept, the password is not
    assert client.session_cookie is None and sessions(web_kernel) == []
    assert failures(web_kernel, "rep") == 1
    client.login("nobody", "whatever-else")
    assert failures(web_kernel, "nobody") == 1
    assert client.login("rep").status_code == 303
    assert failures(web_kernel, "rep") == 0  # a success clears the login's failures


def test_login_is_throttled_after_five_failures(client: Any, web_kernel: Any) -> None:
    for _ in range(5):
        assert client.login("rep", "wrong-password").status_code == 200
    blocked = client.login("rep")  # even the right password waits
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert "失败次数过多" in blocked.text
    assert sessions(web_kernel) == []
    assert failures(web_kernel, "rep") == 5  # blocked attempts are not checked nor counted
    assert client.login("admin").status_code == 303  # other logins are not affected
    with web_kernel.new_session(write=True) as s, s.begin():  # the window passes
        for row in s.scalars(select(LoginFailure)):
            row.at -= timedelta(minutes=16)
    assert client.login("rep").status_code == 303


def test_login_throttle_per_address(client: Any, web_kernel: Any) -> None:
    for i in range(auth_svc.MAX_FAILURES_PER_IP):
        client.login(f"guess{i}", "wrong-password")
    assert client.login("admin").status_code == 429


def test_throttle_is_shared_through_the_database(web_kernel: Any) -> None:
    for _ in range(5):
        auth_svc.record_failure(web_kernel, "rep", "10.0.0.1")
    with pytest.raises(auth_svc.TooManyAttempts) as exc:
        auth_svc.log_in(web_kernel, "REP ", "correct-horse-battery", ip="10.0.0.2")
    assert 0 < exc.value.retry_after <= 15 * 60 + 1


def test_logout_revokes_the_session(client: Any, web_kernel: Any) -> None:
    client.login("rep")
    token = client.session_cookie
    response = client.submit("/logout", {})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert client.session_cookie is None
    assert sessions(web_kernel) == []
    replay = client.site.client(cookies={"crm_session": token})
    assert replay.get("/").status_code == 303
    assert replay.get("/api/v1/me").status_code == 401


def test_logout_needs_csrf(client: Any, web_kernel: Any) -> None:
    client.login("rep")
    assert client.post("/logout").status_code == 403
    assert len(sessions(web_kernel)) == 1


def test_password_change_revokes_sessions(client: Any, web_kernel: Any) -> None:
    client.login("rep")
    other = client.site.client()
    other.login("admin")
    set_password(web_kernel.ctx(), "rep", "a-brand-new-password")
    assert client.get("/").status_code == 303
    assert client.get("/api/v1/me").status_code == 401
    assert [r.user_id for r in sessions(web_kernel)] != []  # admin's session lives on
    assert other.get("/").status_code == 200
    assert client.login("rep", "a-brand-new-password").status_code == 303
    assert client.get("/").status_code == 200


def test_disabling_a_user_revokes_sessions(client: Any, web_kernel: Any) -> None:
    client.login("rep")
    set_active(web_kernel.ctx(), "rep", False)
    assert client.get("/").status_code == 303
    assert client.login("rep").status_code == 200  # can't sign in either
    set_active(web_kernel.ctx(), "rep", True)
    assert client.get("/").status_code == 303  # the old session stays dead
    assert client.login("rep").status_code == 303


def test_expired_and_idle_sessions_end(client: Any, web_kernel: Any) -> None:
    client.login("rep")
    with web_kernel.new_session(write=True) as s, s.begin():
        for row in s.scalars(select(WebSession)):
            row.last_seen_at -= timedelta(hours=13)
    assert client.get("/").status_code == 303
    assert sessions(web_kernel) == []  # deleted on sight
    client.login("rep")
    with web_kernel.new_session(write=True) as s, s.begin():
        s.execute(update(WebSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get("/").status_code == 303


def test_redirect_to_login_keeps_the_page(client: Any) -> None:
    response = client.get("/webplug/?tab=2")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fwebplug%2F%3Ftab%3D2"
    assert client.login("rep", next="/webplug/?tab=2").headers["location"] == "/webplug/?tab=2"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example",
                                    "javascript:alert(1)", "/login"])
def test_login_never_redirects_off_site(client: Any, target: str) -> None:
    assert client.login("rep", next=target).headers["location"] == "/"


def test_signed_in_user_visiting_login_goes_on(client: Any) -> None:
    client.login("rep")
    response = client.get("/login?next=/webplug/")
    assert response.status_code == 303 and response.headers["location"] == "/webplug/"


# --- CSRF -----------------------------------------------------------------------------------
def test_login_form_needs_its_csrf_token(client: Any, web_kernel: Any) -> None:
    response = client.post("/login", data={"login": "rep", "password": "correct-horse-battery"})
    assert response.status_code == 403
    assert sessions(web_kernel) == []
    other = client.site.client()  # a token from another browser's cookie does not fit
    stolen = other.csrf("/login")
    client.csrf("/login")
    response = client.post("/login", data={"login": "rep", "password": "correct-horse-battery",
                                            "csrf_token": stolen})
    assert response.status_code == 403


def test_csrf_missing_or_wrong_is_refused_in_the_users_language(client: Any, make_user: Any) -> None:
    client.login("en_user")
    for data in ({}, {"csrf_token": "0" * 64}):
        response = client.post("/logout", data=data)
        assert response.status_code == 403
        assert "This form has expired" in response.text
    client.login("rep")
    response = client.post("/logout", data={})
    assert response.status_code == 403 and "表单已过期" in response.text


def test_csrf_token_changes_with_the_session(client: Any) -> None:
    before = client.csrf("/login")
    client.login("rep")
    after = client.csrf("/")
    assert before != after
    assert client.post("/-/locale", data={"locale": "en", "csrf_token": before}).status_code == 403
    assert client.post("/-/locale", data={"locale": "en", "csrf_token": after}).status_code == 303


def test_csrf_header_works_for_session_api_calls(client: Any) -> None:
    client.login("rep")
    refused = client.post("/api/v1/webplug/items", json={"a": 1})
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("/csrf-failed")
    token = client.csrf("/")
    ok = client.post("/api/v1/webplug/items", json={"a": 1}, headers={"X-CSRF-Token": token})
    assert ok.status_code == 201 and ok.json() == {"created": {"a": 1}}
