"""The API request path's fast paths (found with bench/run_api.py) give the same answers as the
plain ones: the SQLite connection pool keeps its connections under concurrency, ``to_read``
reads loaded values straight from the row and falls back for expired ones, the token lookup
still refuses revoked, expired and disabled, and ``respond`` writes the same JSON."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, event, select, text, update
from sqlalchemy.orm import Session
from sqlmodel import col

from crm_core.db import SQLITE_POOL_SIZE, make_engine, utcnow
from crm_core.kernel import Kernel
from crm_core.models import ApiToken, Customer, KernelMeta, User
from crm_core.permissions.actor import load_actor
from crm_core.permissions.cache import EPOCH_KEY, AccessCache, access_cache, epoch_column
from crm_core.schemas import CustomerRead
from crm_core.services.auth import create_token, open_session, session_actor, token_actor
from crm_core.services.customers import create_customer, get_customer, to_read
from crm_core.services.roles import create_role, role_grants, set_grants, set_user_roles
from crm_core.services.users import (
    create_team,
    set_active,
    set_membership,
    set_team_manager,
    update_user,
)
from crm_core.web.api.customers import operations
from crm_core.web.api.models import CustomerPage
from crm_core.web.api.operations import etag, respond


def _wave(engine: Any, n: int, barrier: threading.Barrier) -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with Session(engine) as s, s.begin():
                s.execute(text("SELECT 1")).all()
                barrier.wait(timeout=10)  # all n sessions hold a connection at the same time
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_sqlite_pool_keeps_connections_of_concurrent_sessions(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'pool.db'}")
    opened: list[int] = []
    event.listen(engine, "connect", lambda *_: opened.append(1))
    try:
        n = 16
        assert n <= SQLITE_POOL_SIZE
        _wave(engine, n, threading.Barrier(n))
        assert len(opened) == n
        _wave(engine, n, threading.Barrier(n))
        assert len(opened) == n  # the second wave reuses them (the old default reopened 11)
    finally:
        engine.dispose()


def test_sqlite_memory_engine_still_builds() -> None:
    engine = make_engine("sqlite://")
    try:
        with engine.connect() as c:
            assert c.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()


def test_to_read_loaded_and_expired_rows_agree(crm: Kernel, helpers: Any) -> None:
    rep = helpers.add_user(crm, "rep", "sales_rep")
    ctx = crm.ctx(rep, "api")
    made = create_customer(ctx, {"name": "厦门驰荣电气有限公司", "region": "华东",
                                 "custom": {}, "id_number": "11010519491231002X"})
    with crm.new_session() as s:
        row = s.get(Customer, made.id)
        assert row is not None
        fresh = to_read(ctx, row)
        s.expire(row)  # nothing loaded: every field comes through the ORM again
        assert "name" not in row.__dict__
        expired = to_read(ctx, row)
    assert fresh == expired == get_customer(ctx, made.id)
    assert isinstance(fresh, CustomerRead) and fresh.name == "厦门驰荣电气有限公司"
    assert fresh.id_number != "11010519491231002X"  # a rep sees it masked, on both paths


def test_token_lookup_refuses_revoked_expired_and_disabled(crm: Kernel, helpers: Any) -> None:
    helpers.add_user(crm, "rep", "sales_rep")
    row, raw = create_token(crm.ctx(), "rep", name="t")
    found = token_actor(crm, raw)
    assert found is not None and found[1].login == "rep" and found[0].id == row.id
    assert found[1].can("customers.read")
    assert token_actor(crm, raw[:-1] + ("A" if raw[-1] != "A" else "B")) is None
    with crm.new_session(write=True) as s, s.begin():
        s.execute(update(ApiToken).where(col(ApiToken.id) == row.id)
                  .values(expires_at=utcnow() - timedelta(seconds=1)))
    assert token_actor(crm, raw) is None
    with crm.new_session(write=True) as s, s.begin():
        s.execute(update(ApiToken).where(col(ApiToken.id) == row.id).values(expires_at=None))
        s.execute(update(User).where(col(User.login) == "rep").values(is_active=False))
    assert token_actor(crm, raw) is None
    with crm.new_session(write=True) as s, s.begin():
        s.execute(update(User).where(col(User.login) == "rep").values(is_active=True))
        s.execute(update(ApiToken).where(col(ApiToken.id) == row.id).values(revoked_at=utcnow()))
    assert token_actor(crm, raw) is None
    with crm.new_session() as s:
        assert s.scalar(select(col(ApiToken.revoked_at)).where(col(ApiToken.id) == row.id)) is not None


def test_respond_writes_the_json_of_model_dump(crm: Kernel, helpers: Any) -> None:
    rep = helpers.add_user(crm, "rep", "sales_rep")
    ctx = crm.ctx(rep, "api")
    made = create_customer(ctx, {"name": "客户 \"引号\" \\ 斜杠", "remark": "第一行\n第二行 ✓",
                                 "first_contact_date": "2026-01-02"})
    ops = {o.operation_id: o for o in operations()}
    page = CustomerPage(items=[made], next_cursor="abc", limit=50)
    listed = respond(ops["listCustomers"], page)
    assert listed.media_type == "application/json"
    assert listed.headers["content-type"] == "application/json"
    assert json.loads(bytes(listed.body)) == page.model_dump(mode="json")
    assert "客户" in bytes(listed.body).decode()  # UTF-8, not \\u escapes
    one = respond(ops["getCustomer"], made)
    assert one.headers["etag"] == etag(made.version)
    assert json.loads(bytes(one.body)) == made.model_dump(mode="json")
    created = respond(ops["createCustomer"], made)
    assert created.status_code == 201
    assert created.headers["location"].endswith(f"/customers/{made.id}")


# --- the permissions epoch and the access cache -------------------------------------------------
def _epoch(kernel: Kernel) -> str | None:
    with kernel.new_session() as s:
        return s.scalar(select(epoch_column()))


def test_every_permission_table_changes_the_epoch_in_the_same_transaction(crm: Kernel,
                                                                           helpers: Any) -> None:
    helpers.add_user(crm, "rep", "sales_rep")
    ctx = crm.ctx()
    seen = [_epoch(crm)]
    assert seen[0] is not None

    def changed() -> None:
        now = _epoch(crm)
        assert now not in seen
        seen.append(now)

    create_role(ctx, "auditor", "审计", {"audit.read": None})
    changed()
    set_grants(ctx, "auditor", {"audit.read": None, "customers.read": "all"})
    changed()
    set_user_roles(ctx, "rep", ["sales_rep", "auditor"])
    changed()
    create_team(ctx, "华东一组")
    changed()
    set_membership(ctx, "华东一组", "rep", True)
    changed()
    set_team_manager(ctx, "华东一组", "rep")
    changed()
    with crm.new_session(write=True) as s, s.begin():  # raw SQL, as a script would
        s.execute(text("DELETE FROM crm_team_member"))
    changed()
    with crm.new_session(write=True) as s:  # a rolled-back change leaves the epoch alone
        s.begin()
        s.execute(text("DELETE FROM crm_user_role"))
        s.rollback()
    assert _epoch(crm) == seen[-1]
    with crm.new_session(write=True) as s, s.begin():  # unrelated tables do not change it
        s.execute(update(User).where(col(User.login) == "rep").values(display_name="新名字"))
    assert _epoch(crm) == seen[-1]


def test_a_permission_change_shows_on_the_next_request_of_another_process(
        crm: Kernel, make_kernel: Any, helpers: Any) -> None:
    other = make_kernel()  # another kernel on the same database = another server process
    helpers.add_user(crm, "rep", "sales_rep")
    _row, raw = create_token(crm.ctx(), "rep", name="t")
    cache = access_cache(other)

    def actor() -> Any:
        found = token_actor(other, raw)
        assert found is not None
        return found[1]

    first = actor()
    assert first.scope("customers.read") == "own" and first.team_ids == ()
    assert actor() == first and cache.hits >= 1  # unchanged: served from the cache
    ctx = crm.ctx()
    set_grants(ctx, "sales_rep", {**role_grants(ctx, "sales_rep"), "customers.read": "team"})
    assert actor().scope("customers.read") == "team"  # grant change
    create_role(ctx, "auditor", "审计", {"audit.read": None})
    set_user_roles(ctx, "rep", ["auditor"])
    now = actor()
    assert now.roles == ("auditor",) and not now.can("customers.read")  # role removed
    assert now.can("audit.read")
    team = create_team(ctx, "华东一组")
    set_membership(ctx, "华东一组", "rep", True)
    assert actor().team_ids == (team.id,)  # team change
    set_membership(ctx, "华东一组", "rep", False)
    assert actor().team_ids == ()
    set_team_manager(ctx, "华东一组", "rep")
    assert actor().team_ids == (team.id,)
    set_user_roles(ctx, "rep", [])
    assert actor().roles == () and actor().grants == {}
    # every answer equals a fresh load without the cache
    with other.new_session() as s:
        user = s.scalar(select(User).where(col(User.login) == "rep"))
        assert user is not None
        assert actor() == load_actor(s, user)
    # identity, disabling and revocation are read per request, never cached
    update_user(ctx, "rep", {"display_name": "刘博浩"})
    assert actor().display_name == "刘博浩"
    set_active(ctx, "rep", False)
    assert token_actor(other, raw) is None


def test_without_the_epoch_row_nothing_is_cached(crm: Kernel, helpers: Any) -> None:
    helpers.add_user(crm, "rep", "sales_rep")
    _row, raw = create_token(crm.ctx(), "rep", name="t")
    with crm.new_session(write=True) as s, s.begin():
        s.execute(delete(KernelMeta).where(col(KernelMeta.key) == EPOCH_KEY))
    cache = access_cache(crm)
    cache.clear()
    for _ in range(3):
        found = token_actor(crm, raw)
        assert found is not None and found[1].can("customers.read")
    assert len(cache) == 0 and cache.hits == 0


def test_the_access_cache_is_bounded() -> None:
    cache = AccessCache(max_entries=3)
    loads: list[int] = []

    class FakeSession:  # load_access's two statements, counted
        def execute(self, *_: Any) -> Any:
            loads.append(1)
            return type("R", (), {"all": lambda self: []})()

        def scalars(self, *_: Any) -> Any:
            return type("R", (), {"all": lambda self: []})()

    s: Any = FakeSession()
    for user_id in (1, 2, 3, 1, 4):  # 1 is used again, so 2 is the least recently used
        cache.access(s, user_id, "e")
    assert len(cache) == 3 and len(loads) == 4
    cache.access(s, 1, "e")
    assert len(loads) == 4
    cache.access(s, 2, "e")
    assert len(loads) == 5
    cache.access(s, 1, "other epoch")
    assert len(loads) == 6


def test_a_browser_session_sees_a_permission_change_on_its_next_request(
        crm: Kernel, make_kernel: Any, helpers: Any) -> None:
    other = make_kernel()
    helpers.add_user(crm, "rep", "sales_rep")
    with crm.new_session() as s:
        user = s.scalar(select(User).where(col(User.login) == "rep"))
    assert user is not None
    token = open_session(crm, user).token

    def actor() -> Any:
        found = session_actor(other, token)
        assert found is not None
        return found[1]

    assert actor().scope("customers.read") == "own" and actor() == actor()
    ctx = crm.ctx()
    set_grants(ctx, "sales_rep", {**role_grants(ctx, "sales_rep"), "customers.read": "all"})
    assert actor().scope("customers.read") == "all"
    team = create_team(ctx, "华南组", manager="rep")
    assert actor().team_ids == (team.id,)
    set_user_roles(ctx, "rep", [])
    assert actor().roles == () and not actor().can("customers.read")
    set_active(ctx, "rep", False)
    assert session_actor(other, token) is None
