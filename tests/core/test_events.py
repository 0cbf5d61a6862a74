"""Domain events through the outbox: after commit, once per plugin, isolated, retried, swept."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from crm_core.db import utcnow
from crm_core.events import MAX_ATTEMPTS, DomainEvent
from crm_core.hookspecs import hookimpl
from crm_core.kernel import Kernel
from crm_core.models import Customer, OutboxEvent, OutboxRetry
from crm_core.plugin_system.manifest import Manifest
from crm_core.services.customers import create_customer, update_customer

MakeKernel = Callable[..., Kernel]
LATER = timedelta(days=1)  # past every back-off


class Listener:
    """Records the events it gets; raises while ``failures`` is above zero."""

    def __init__(self, failures: int = 0) -> None:
        self.got: list[tuple[str, str, int]] = []
        self.failures = failures
        self.committed: list[bool] = []

    def _take(self, hook: str, kernel: Kernel, event: DomainEvent) -> None:
        if self.failures:
            self.failures -= 1
            raise RuntimeError(f"{hook} is down")
        self.got.append((hook, event.name, event.id))
        with kernel.new_session() as s:  # what another connection sees: committed data only
            self.committed.append(s.get(Customer, event.entity_id) is not None)

    @hookimpl
    def on_entity_created(self, kernel: Kernel, event: DomainEvent) -> None:
        self._take("on_entity_created", kernel, event)

    @hookimpl
    def on_event(self, kernel: Kernel, event: DomainEvent) -> None:
        self._take("on_event", kernel, event)


class EventOnly:
    """Takes only the argument it needs, as pluggy allows."""

    def __init__(self) -> None:
        self.names: list[str] = []

    @hookimpl
    def on_event(self, event: DomainEvent) -> None:
        self.names.append(event.name)


def plug(name: str, hooks: Any) -> Manifest:
    return Manifest(name=name, version="0.1.0", hooks=hooks)


def new_customer(k: Kernel, name: str = "ACME") -> int:
    c = create_customer(k.ctx(), {"name": name, "type": "enterprise"})
    assert c.id is not None
    return c.id


def outbox(k: Kernel) -> list[OutboxEvent]:
    with k.new_session() as s:
        return list(s.scalars(select(OutboxEvent).order_by(OutboxEvent.id)))


def retries(k: Kernel) -> list[OutboxRetry]:
    with k.new_session() as s:
        return list(s.scalars(select(OutboxRetry).order_by(OutboxRetry.id)))


def test_event_is_delivered_once_after_commit_to_every_enabled_plugin(
    make_kernel: MakeKernel,
) -> None:
    one, off, two = Listener(), Listener(), EventOnly()
    k = make_kernel(plugins=[plug("one", one), plug("off", off), plug("two", two)],
                    enabled=["one", "two"])
    cid = new_customer(k)
    (row,) = outbox(k)
    assert (row.name, row.entity, row.entity_id, row.status) == ("customer.created", "customer",
                                                                  cid, "done")
    assert one.got == [("on_entity_created", "customer.created", row.id),
                       ("on_event", "customer.created", row.id)]
    assert one.committed == [True, True]
    assert two.names == ["customer.created"]
    assert off.got == []

    # nothing sends it again: not the sweeper, not a second delivery attempt
    assert k.events.sweep(now=utcnow() + LATER) == 0
    assert k.events.deliver([row.id]) == 0
    assert k.events.retry_due(now=utcnow() + LATER) == 0
    update_customer(k.ctx(), cid, {"remark": "vip"})
    assert [g[:2] for g in one.got[2:]] == [("on_event", "customer.updated")]
    assert retries(k) == []


def test_nothing_is_delivered_after_a_rollback(make_kernel: MakeKernel) -> None:
    one = Listener()
    k = make_kernel(plugins=[plug("one", one)], enabled=["one"])
    ctx = k.ctx()
    with pytest.raises(RuntimeError, match="changed my mind"), ctx.uow():
        create_customer(ctx, {"name": "Ghost", "type": "enterprise"})
        raise RuntimeError("changed my mind")
    assert outbox(k) == []
    assert one.got == []
    with k.new_session() as s:
        assert s.scalars(select(Customer)).all() == []

    new_customer(k, "Real")  # the same process goes on delivering what commits
    assert [g[:2] for g in one.got] == [("on_entity_created", "customer.created"),
                                        ("on_event", "customer.created")]
    assert k.events.sweep(now=utcnow() + LATER) == 0
    assert len(one.got) == 2


def test_failing_plugin_does_not_stop_others_and_is_retried_alone(make_kernel: MakeKernel) -> None:
    bad, good = Listener(failures=1), Listener()
    k = make_kernel(plugins=[plug("bad", bad), plug("good", good)], enabled=["bad", "good"])
    new_customer(k)
    (row,) = outbox(k)
    assert row.status == "done"
    assert len(good.got) == 2
    assert bad.got == []
    (retry,) = retries(k)
    assert (retry.event_id, retry.plugin, retry.attempts, retry.dead) == (row.id, "bad", 1, False)
    assert "on_entity_created is down" in retry.last_error

    assert k.events.retry_due() == 0  # back-off not over yet
    assert k.events.retry_due(now=utcnow() + LATER) == 1
    assert [g[:2] for g in bad.got] == [("on_entity_created", "customer.created"),
                                        ("on_event", "customer.created")]
    assert len(good.got) == 2  # not delivered twice
    assert retries(k) == []


def test_retry_of_a_disabled_plugin_waits(make_kernel: MakeKernel) -> None:
    bad = Listener(failures=1)
    k = make_kernel(plugins=[plug("bad", bad)], enabled=["bad"])
    new_customer(k)
    k.host.set_enabled(["bad"], False)
    assert k.events.retry_due(now=utcnow() + LATER) == 0
    assert bad.got == [] and len(retries(k)) == 1
    k.host.set_enabled(["bad"], True)
    assert k.events.retry_due(now=utcnow() + 2 * LATER) == 1
    assert len(bad.got) == 2 and retries(k) == []


def test_retry_gives_up_after_max_attempts(make_kernel: MakeKernel) -> None:
    bad = Listener(failures=10_000)
    k = make_kernel(plugins=[plug("bad", bad)], enabled=["bad"])
    new_customer(k)
    for attempt in range(2, MAX_ATTEMPTS + 1):
        assert k.events.retry_due(now=utcnow() + LATER) == 0
        (retry,) = retries(k)
        assert retry.attempts == attempt
        assert retry.dead is (attempt == MAX_ATTEMPTS)
    left = bad.failures
    assert k.events.retry_due(now=utcnow() + 10 * LATER) == 0  # dead: not tried again
    assert bad.failures == left
    assert 10_000 - left == MAX_ATTEMPTS
    assert retries(k)[0].dead


def test_sweep_delivers_events_a_crashed_process_left_pending(make_kernel: MakeKernel) -> None:
    one = Listener()
    k = make_kernel(plugins=[plug("one", one)], enabled=["one"])
    cid = new_customer(k)
    one.got.clear()
    now = utcnow()
    with k.new_session(write=True) as s, s.begin():  # rows a process wrote before dying
        stale = OutboxEvent(name="customer.created", entity="customer", entity_id=cid,
                            payload={"id": cid}, status="pending",
                            created_at=now - timedelta(seconds=60))
        stuck = OutboxEvent(name="customer.created", entity="customer", entity_id=cid,
                            payload={"id": cid}, status="processing",
                            created_at=now - timedelta(minutes=20),
                            claimed_at=now - timedelta(minutes=10))
        young = OutboxEvent(name="customer.created", entity="customer", entity_id=cid,
                            payload={"id": cid}, status="pending", created_at=now)
        s.add_all([stale, stuck, young])
    assert one.got == []  # never committed through a service: nobody delivered them

    assert k.events.sweep() == 2
    assert sorted({g[2] for g in one.got}) == sorted([stale.id, stuck.id])
    statuses = {r.id: r.status for r in outbox(k)}
    assert statuses[stale.id] == statuses[stuck.id] == "done"
    assert statuses[young.id] == "pending"  # its own process may still be delivering it
    assert k.events.sweep() == 0


def test_async_hook_implementations_are_resolved(make_kernel: MakeKernel) -> None:
    class AsyncListener:
        def __init__(self) -> None:
            self.got: list[str] = []
            self.fail = True

        @hookimpl
        async def on_entity_created(self, kernel: Kernel, event: DomainEvent) -> None:
            await asyncio.sleep(0)
            if self.fail:
                self.fail = False
                raise RuntimeError("async failure")
            self.got.append(event.name)

        @hookimpl
        async def on_event(self, kernel: Kernel, event: DomainEvent) -> None:
            await asyncio.sleep(0)
            self.got.append(f"any {event.name}")

    hooks = AsyncListener()
    k = make_kernel(plugins=[plug("aio", hooks)], enabled=["aio"])
    new_customer(k)
    assert hooks.got == []
    (retry,) = retries(k)  # an awaited failure is isolated like a plain one
    assert "async failure" in retry.last_error
    assert k.events.retry_due(now=utcnow() + LATER) == 1
    both = ["customer.created", "any customer.created"]
    assert hooks.got == both

    async def from_async_code() -> int:  # a sync service called inside a running loop
        return new_customer(k, "From a coroutine")

    asyncio.run(from_async_code())
    assert hooks.got == both * 2


def test_without_subscribers_the_outbox_row_is_written_done(make_kernel: MakeKernel) -> None:
    off = Listener()
    k = make_kernel(plugins=[plug("off", off)])  # loaded, not enabled
    new_customer(k)
    (row,) = outbox(k)
    assert row.status == "done" and row.done_at is not None
    assert off.got == []
    assert k.events.sweep(now=utcnow() + LATER) == 0
