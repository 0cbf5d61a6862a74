"""API tokens: bearer authentication, revocation, expiry, scope, and ``crm tokens``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from crm_core.cli import CliState, cli
from crm_core.db import utcnow
from crm_core.errors import PermissionDenied, ValidationError
from crm_core.models import ApiToken, AuditEntry
from crm_core.services import auth as auth_svc
from crm_core.services.users import actor_for, set_active, set_password


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def new_token(kernel: Any, login: str, **kwargs: Any) -> str:
    _row, raw = auth_svc.create_token(kernel.ctx(), login, **kwargs)
    return raw


def test_bearer_token_acts_as_its_user(client: Any, web_kernel: Any) -> None:
    token = new_token(web_kernel, "rep", name="erp sync")
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 200
    body = response.json()
    assert body["login"] == "rep" and body["roles"] == ["sales_rep"]
    assert body["permissions"]["customers.read"] == "own"
    assert client.session_cookie is None  # no session is opened for a token
    with web_kernel.new_session() as s:
        row = s.scalar(select(ApiToken))
        assert row.token_hash == auth_svc.hash_token(token) and token not in row.prefix + row.name
        assert row.prefix == token[:12] and row.last_used_at is not None


@pytest.mark.parametrize("header", ["Bearer mcrm_not-a-token", "Bearer ", "Bearer abc", "Basic cmVwOng="])
def test_bad_credentials_are_anonymous(client: Any, header: str) -> None:
    response = client.get("/api/v1/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_revoked_token_is_refused(client: Any, web_kernel: Any) -> None:
    row, token = auth_svc.create_token(web_kernel.ctx(), "rep")
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    auth_svc.revoke_token(web_kernel.ctx(), row.id)
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert auth_svc.token_status(auth_svc.list_tokens(web_kernel.ctx(), "rep")[0][0]) == "revoked"


def test_expired_token_is_refused(client: Any, web_kernel: Any) -> None:
    _row, token = auth_svc.create_token(web_kernel.ctx(), "rep", expires_days=30)
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    with web_kernel.new_session(write=True) as s, s.begin():
        s.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_token_of_a_disabled_user_is_refused(client: Any, web_kernel: Any) -> None:
    token = new_token(web_kernel, "rep")
    set_active(web_kernel.ctx(), "rep", False)
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    set_active(web_kernel.ctx(), "rep", True)
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    set_password(web_kernel.ctx(), "rep", "another-password")  # machines keep working
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200


def test_token_is_scoped_to_its_users_current_permissions(client: Any, web_kernel: Any) -> None:
    from crm_core.services.roles import set_user_roles

    rep, admin = new_token(web_kernel, "rep"), new_token(web_kernel, "admin")
    assert client.get("/-/plugins.json", headers=bearer(rep)).status_code == 403
    assert client.get("/-/plugins.json", headers=bearer(admin)).status_code == 200
    assert client.get("/api/v1/webplug/items", headers=bearer(rep)).status_code == 200
    viewer = new_token(web_kernel, "viewer")
    denied = client.get("/api/v1/webplug/items", headers=bearer(viewer))
    assert denied.status_code == 403 and denied.json()["type"].endswith("/permission-denied")
    set_user_roles(web_kernel.ctx(), "rep", ["viewer"])  # roles change: the token follows
    assert client.get("/api/v1/webplug/items", headers=bearer(rep)).status_code == 403


def test_bearer_requests_need_no_csrf(client: Any, web_kernel: Any) -> None:
    token = new_token(web_kernel, "rep")
    response = client.post("/api/v1/webplug/items", json={"name": "x"}, headers=bearer(token))
    assert response.status_code == 201 and response.json() == {"created": {"name": "x"}}


def test_bearer_header_wins_over_a_session_cookie(client: Any, web_kernel: Any) -> None:
    client.login("admin")
    row, token = auth_svc.create_token(web_kernel.ctx(), "rep")
    assert client.get("/api/v1/me", headers=bearer(token)).json()["login"] == "rep"
    auth_svc.revoke_token(web_kernel.ctx(), row.id)
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    # …and a bogus bearer header never exempts a cookie request from CSRF
    assert client.post("/api/v1/webplug/items", json={}, headers=bearer("mcrm_x")).status_code == 401


def test_token_management_rules(web_kernel: Any) -> None:
    rep = web_kernel.ctx(actor_for(web_kernel.ctx(), "rep"))
    own, _ = auth_svc.create_token(rep, "rep", name="mine")
    with pytest.raises(PermissionDenied):
        auth_svc.create_token(rep, "admin")
    admin_row, _ = auth_svc.create_token(web_kernel.ctx(), "admin")
    assert [t.id for t, _login in auth_svc.list_tokens(rep)] == [own.id]
    with pytest.raises(PermissionDenied):
        auth_svc.revoke_token(rep, admin_row.id)
    auth_svc.revoke_token(rep, own.id)
    with pytest.raises(ValidationError):
        auth_svc.create_token(web_kernel.ctx(), "rep", expires_days=0)
    with web_kernel.new_session() as s:
        actions = list(s.scalars(select(AuditEntry.action).where(AuditEntry.entity == "api_token")))
    assert actions.count("token.create") == 2 and actions.count("token.revoke") == 1


def run(kernel: Any, *args: str) -> Any:
    state = CliState()
    state._settings = kernel.settings
    return CliRunner().invoke(cli, list(args), obj=state)


def test_cli_create_list_revoke(client: Any, web_kernel: Any) -> None:
    created = run(web_kernel, "tokens", "create", "rep", "--name", "erp", "--expires-days", "90")
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("mcrm_") and " " not in token
    assert client.get("/api/v1/me", headers=bearer(token)).json()["login"] == "rep"

    listed = run(web_kernel, "tokens", "list", "rep")
    assert listed.exit_code == 0 and "erp" in listed.stdout and token[:12] in listed.stdout
    assert token not in listed.stdout and "active" in listed.stdout
    token_id = auth_svc.list_tokens(web_kernel.ctx(), "rep")[0][0].id

    revoked = run(web_kernel, "tokens", "revoke", str(token_id))
    assert revoked.exit_code == 0, revoked.output
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert "revoked" in run(web_kernel, "tokens", "list").stdout

    missing = run(web_kernel, "tokens", "create", "nobody")
    assert missing.exit_code == 1 and "no user 'nobody'" in missing.output
    assert run(web_kernel, "tokens", "revoke", "999").exit_code == 1
