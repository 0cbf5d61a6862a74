"""Due work rows: idempotent scheduling, atomic claims, completion, retries, stale claims."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from crm_core.db import utcnow
from crm_core.duework import (
    claim_due,
    complete_due,
    fail_due,
    release_stale,
    run_due,
    schedule_due,
)
from crm_core.kernel import Kernel
from crm_core.models import DueWork

MakeKernel = Callable[..., Kernel]
T0 = datetime(2024, 5, 1, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_threads_left() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    left = [t.name for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not left, f"threads left running: {left}"


def add(kernel: Kernel, kind: str, keys: list[str], due_at: datetime = T0) -> None:
    with kernel.new_session(write=True) as s, s.begin():
        for key in keys:
            schedule_due(s, kind, key, due_at, {"key": key})


def rows(kernel: Kernel) -> dict[str, DueWork]:
    with kernel.new_session() as s:
        return {r.key: r for r in s.scalars(select(DueWork)).all()}


def test_schedule_due_is_idempotent(kernel: Kernel) -> None:
    cst = timezone(timedelta(hours=8))
    with kernel.new_session(write=True) as s, s.begin():
        assert schedule_due(s, "t.remind", "task:1", datetime(2024, 5, 1, 10, 0, tzinfo=cst),
                            {"task": 1}) is True
    with kernel.new_session(write=True) as s, s.begin():
        assert schedule_due(s, "t.remind", "task:1", T0 + timedelta(days=1), {"task": 99}) is False
        assert schedule_due(s, "t.other", "task:1", T0) is True
    with kernel.new_session() as s:
        assert s.scalar(select(func.count()).select_from(DueWork)) == 2
        row = s.scalars(select(DueWork).where(col(DueWork.kind) == "t.remind")).one()
    assert (row.due_at, row.payload, row.status, row.attempts) == (T0, {"task": 1}, "pending", 0)
    assert row.due_at.utcoffset() == timedelta(0)
    with pytest.raises(ValueError, match="timezone-aware"), kernel.new_session(write=True) as s:
        schedule_due(s, "t.remind", "task:2", datetime(2024, 5, 1))


def test_schedule_due_rolls_back_with_its_transaction(kernel: Kernel) -> None:
    with pytest.raises(RuntimeError), kernel.new_session(write=True) as s, s.begin():
        schedule_due(s, "t.remind", "task:1", T0)
        raise RuntimeError("the business write failed")
    assert rows(kernel) == {}


def test_claim_takes_only_due_pending_rows_of_the_kind(kernel: Kernel) -> None:
    add(kernel, "t.remind", ["a", "b"], T0)
    add(kernel, "t.remind", ["later"], T0 + timedelta(hours=1))
    add(kernel, "t.other", ["x"], T0)
    got = claim_due(kernel, "t.remind", now=T0, worker_id="w1")
    assert sorted(r.key for r in got) == ["a", "b"]
    assert {(r.status, r.claimed_by, r.attempts) for r in got} == {("claimed", "w1", 1)}
    assert claim_due(kernel, "t.remind", now=T0, worker_id="w2") == []
    assert [r.key for r in claim_due(kernel, "t.remind", now=T0 + timedelta(hours=2))] == ["later"]
    assert rows(kernel)["x"].status == "pending"


def test_concurrent_claims_are_disjoint_and_cover_every_row(make_kernel: MakeKernel) -> None:
    k1, k2 = make_kernel(), make_kernel()
    keys = [f"k{i:03d}" for i in range(200)]
    add(k1, "t.remind", keys)
    start = threading.Barrier(2)
    got: dict[str, list[int]] = {"w1": [], "w2": []}
    errors: list[BaseException] = []

    def worker(kernel: Kernel, name: str) -> None:
        try:
            start.wait()
            while batch := claim_due(kernel, "t.remind", now=T0, limit=7, worker_id=name):
                got[name].extend(r.id for r in batch if r.id is not None)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k, n)) for k, n in ((k1, "w1"), (k2, "w2"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert not set(got["w1"]) & set(got["w2"])
    assert len(got["w1"]) + len(got["w2"]) == 200
    final = rows(k1)
    assert {r.id for r in final.values()} == set(got["w1"]) | set(got["w2"])
    for name, ids in got.items():
        assert all(r.claimed_by == name for r in final.values() if r.id in ids)
    assert {(r.status, r.attempts) for r in final.values()} == {("claimed", 1)}


def test_complete_and_fail(kernel: Kernel) -> None:
    add(kernel, "t.remind", ["a", "b"])
    a, b = claim_due(kernel, "t.remind", now=T0, worker_id="w1")
    assert a.id is not None and b.id is not None
    assert complete_due(kernel, a.id, worker_id="someone-else") is False
    assert complete_due(kernel, a.id, worker_id="w1") is True
    assert complete_due(kernel, a.id) is False  # already done

    retry_at = T0 + timedelta(minutes=5)
    assert fail_due(kernel, b.id, "smtp down", retry_at) is True
    row = rows(kernel)["b"]
    assert (row.status, row.due_at, row.last_error, row.claimed_by) == (
        "pending", retry_at, "smtp down", None)
    assert claim_due(kernel, "t.remind", now=T0) == []  # not due again yet
    [again] = claim_due(kernel, "t.remind", now=retry_at, worker_id="w2")
    assert (again.key, again.attempts, again.claimed_by) == ("b", 2, "w2")
    assert fail_due(kernel, b.id, "bounced", None) is True
    final = rows(kernel)
    assert (final["a"].status, final["b"].status, final["b"].last_error) == (
        "done", "failed", "bounced")
    assert final["a"].done_at is not None
    assert claim_due(kernel, "t.remind", now=retry_at + timedelta(days=1)) == []


def test_release_stale_returns_abandoned_claims(kernel: Kernel) -> None:
    add(kernel, "t.remind", ["a"])
    add(kernel, "t.other", ["x"])
    [a] = claim_due(kernel, "t.remind", now=T0, worker_id="dead")
    claim_due(kernel, "t.other", now=T0, worker_id="dead")
    assert release_stale(kernel, timedelta(minutes=10), now=utcnow() + timedelta(minutes=5)) == 0
    later = utcnow() + timedelta(minutes=11)
    assert release_stale(kernel, timedelta(minutes=10), now=later, kind="t.remind") == 1
    assert rows(kernel)["a"].status == "pending"
    assert rows(kernel)["x"].status == "claimed"
    [again] = claim_due(kernel, "t.remind", now=T0, worker_id="alive")
    assert (again.id, again.claimed_by, again.attempts) == (a.id, "alive", 2)
    assert complete_due(kernel, a.id or 0, worker_id="dead") is False


def test_run_due_completes_and_retries(kernel: Kernel) -> None:
    add(kernel, "t.remind", ["ok1", "bad", "ok2"])
    seen: list[str] = []

    def handler(row: DueWork) -> None:
        seen.append(row.key)
        if row.key == "bad":
            raise ConnectionError("smtp down")

    assert run_due(kernel, "t.remind", handler, now=T0, max_attempts=2) == 2
    assert seen == ["ok1", "bad", "ok2"]  # oldest first, then by id
    state = rows(kernel)
    assert (state["ok1"].status, state["ok2"].status) == ("done", "done")
    bad = state["bad"]
    assert (bad.status, bad.last_error) == ("pending", "ConnectionError: smtp down")
    assert run_due(kernel, "t.remind", handler, now=bad.due_at, max_attempts=2) == 0
    assert rows(kernel)["bad"].status == "failed"  # second attempt was the last
