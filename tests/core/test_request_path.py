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

from sqlalchemy import event, select, text, update
from sqlalchemy.orm import Session
from sqlmodel import col

from crm_core.db import SQLITE_POOL_SIZE, make_engine, utcnow
from crm_core.kernel import Kernel
from crm_core.models import ApiToken, Customer, User
from crm_core.schemas import CustomerRead
from crm_core.services.auth import create_token, token_actor
from crm_core.services.customers import create_customer, get_customer, to_read
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
