"""Follow-up services: validation, time zones, the customer's last follow-up, timeline pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from crm_core.errors import Conflict, ValidationError
from crm_core.kernel import Kernel
from crm_core.models import AuditEntry, OutboxEvent
from crm_core.services.base import encode_cursor
from crm_core.services.contacts import create_contact
from crm_core.services.customers import create_customer, get_customer
from crm_core.services.followups import (
    create_followup,
    delete_followup,
    get_followup,
    timeline,
    update_followup,
)


def utc(dt: datetime) -> datetime:
    """Aware UTC whatever the engine returns (SQLite hands back naive UTC)."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


@pytest.fixture
def customer(crm: Kernel) -> int:
    return create_customer(crm.ctx(), {"name": "Acme", "contacts": [{"name": "张三"}]}).id


def test_invalid_followups_are_refused_and_write_nothing(crm: Kernel, helpers: Any,
                                                         customer: int) -> None:
    other = create_customer(crm.ctx(), {"name": "Other"}).id
    foreign = create_contact(crm.ctx(), {"customer_id": other, "name": "李四"}).id
    future = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    cases = [
        ({"content": ""}, "content"),
        ({"content": "   "}, "content"),
        ({"content": "call", "method": "telegram"}, "method"),
        ({"content": "call", "occurred_at": future}, "occurred_at"),
        ({"content": "call", "occurred_at": "last tuesday"}, "occurred_at"),
        ({"content": "call", "contact_id": foreign}, "contact_id"),
        ({"content": "call", "user_id": 1}, "user_id"),
        ({"content": "call", "next_step_due": "soon"}, "next_step_due"),
    ]
    before = helpers.snapshot(crm)
    for data, field in cases:
        with pytest.raises(ValidationError) as exc:
            create_followup(crm.ctx(), {"customer_id": customer, **data})
        assert field in exc.value.errors, (data, exc.value.errors)
    assert helpers.snapshot(crm) == before
    assert get_customer(crm.ctx(), customer).last_followup_at is None


def test_a_time_without_zone_is_read_in_the_actors_time_zone(crm: Kernel, helpers: Any,
                                                             customer: int) -> None:
    rep = helpers.add_user(crm, "rep", "sales_rep")
    from crm_core.services.customers import assign_owner

    assign_owner(crm.ctx(), [customer], rep.id)
    fu = create_followup(crm.ctx(rep), {"customer_id": customer, "content": "visit",
                                        "method": "visit", "occurred_at": "2024-05-01T09:00:00"})
    assert utc(fu.occurred_at) == datetime(2024, 5, 1, 1, 0, tzinfo=UTC)  # Asia/Shanghai
    assert fu.user_id == rep.id
    stored = get_followup(crm.ctx(), fu.id)
    assert utc(stored.occurred_at) == datetime(2024, 5, 1, 1, 0, tzinfo=UTC)


def test_the_customers_last_followup_follows_writes(crm: Kernel, customer: int) -> None:
    ctx = crm.ctx()
    t1, t2 = datetime(2024, 5, 1, 8, tzinfo=UTC), datetime(2024, 6, 1, 8, tzinfo=UTC)
    a = create_followup(ctx, {"customer_id": customer, "content": "a", "occurred_at": t1})
    b = create_followup(ctx, {"customer_id": customer, "content": "b", "occurred_at": t2})

    def last() -> datetime | None:
        at = get_customer(ctx, customer).last_followup_at
        return utc(at) if at else None

    assert last() == t2
    update_followup(ctx, b.id, {"occurred_at": datetime(2024, 4, 1, tzinfo=UTC)})
    assert last() == t1
    delete_followup(ctx, a.id)
    assert last() == datetime(2024, 4, 1, tzinfo=UTC)
    delete_followup(ctx, b.id)
    assert last() is None


def test_timeline_pages_newest_first(crm: Kernel, customer: int) -> None:
    ctx = crm.ctx()
    base = datetime(2024, 5, 1, tzinfo=UTC)
    made = [create_followup(ctx, {"customer_id": customer, "content": f"#{i}",
                                  "occurred_at": base + timedelta(hours=i // 2)}).id
            for i in range(7)]  # pairs share a time: ties are broken by id
    seen, sizes, cursor = [], [], None
    while True:
        page = timeline(ctx, customer, cursor=cursor, limit=3)
        seen.extend(page.items)
        sizes.append(len(page.items))
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sizes == [3, 3, 1]
    assert [f.id for f in seen] == sorted(made, key=lambda i: (made.index(i) // 2, i), reverse=True)
    for bad in ("garbage!", encode_cursor(["x", 1]), encode_cursor([1, 2]),
                encode_cursor(["2024-05-01T00:00:00", "1"])):
        with pytest.raises(ValidationError) as exc:
            timeline(ctx, customer, cursor=bad)
        assert "cursor" in exc.value.errors
    for limit in (0, 201):
        with pytest.raises(ValidationError):
            timeline(ctx, customer, limit=limit)


def test_followup_writes_are_audited_and_locked(crm: Kernel, helpers: Any, customer: int) -> None:
    ctx = crm.ctx(interface="cli")
    fu = create_followup(ctx, {"customer_id": customer, "content": "call", "next_step": "quote"})
    update_followup(ctx, fu.id, {"content": "long call"}, version=1)
    before = helpers.snapshot(crm)
    with pytest.raises(Conflict):
        update_followup(ctx, fu.id, {"content": "stale"}, version=1)
    with pytest.raises(ValidationError) as exc:
        update_followup(ctx, fu.id, {"customer_id": 5})
    assert exc.value.errors == {"customer_id": ["this field cannot be set here"]}
    for data, field in [({"content": None}, "content"), ({"method": None}, "method"),
                        ({"occurred_at": None}, "occurred_at"), ({"feedback": "长" * 2001}, "feedback"),
                        ({"next_step": "x" * 1001}, "next_step"), ({"user_id": 3}, "user_id")]:
        with pytest.raises(ValidationError) as exc:
            update_followup(ctx, fu.id, data)
        assert field in exc.value.errors, (data, exc.value.errors)
    assert helpers.snapshot(crm) == before
    delete_followup(ctx, fu.id, version=2)
    entries = helpers.audit_entries(crm, AuditEntry.entity == "followup")
    assert [(e.action, e.interface) for e in entries] == [
        ("followup.create", "cli"), ("followup.update", "cli"), ("followup.delete", "cli")]
    assert entries[1].changes == {"content": ["call", "long call"]}
    assert [e.name for e in helpers.outbox_rows(crm, OutboxEvent.entity == "followup")] == [
        "followup.created", "followup.updated", "followup.deleted"]
