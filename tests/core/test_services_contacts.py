"""Contact services: validation, primary contact, secrets at rest, locking, audit + outbox."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from crm_core.errors import Conflict, NotFound, ValidationError
from crm_core.kernel import Kernel
from crm_core.models import AuditEntry, Contact, OutboxEvent
from crm_core.services import followups as followups_svc
from crm_core.services.contacts import (
    create_contact,
    delete_contact,
    get_contact,
    list_contacts,
    update_contact,
)
from crm_core.services.customers import create_customer, list_customers


@pytest.fixture
def customer(crm: Kernel) -> int:
    return create_customer(crm.ctx(), {"name": "Acme"}).id


INVALID: list[tuple[dict[str, Any], str]] = [
    ({"name": ""}, "name"),
    ({"name": "张三", "phone": "138-1234-567"}, "phone"),
    ({"name": "张三", "phone": "phone me"}, "phone"),
    ({"name": "张三", "email": "not-an-email"}, "email"),
    ({"name": "张三", "id_number": "11010519491231002"}, "id_number"),
    ({"name": "张三", "custom": {"nope": "x"}}, "custom.nope"),
    ({"name": "张三", "version": 3}, "version"),
    ({"name": "张三", "phone_enc": "v1:xx"}, "phone_enc"),
]


def test_invalid_contacts_are_refused_and_write_nothing(crm: Kernel, helpers: Any, customer: int) -> None:
    before = helpers.snapshot(crm)
    wrong = []
    for data, field in INVALID:
        try:
            create_contact(crm.ctx(), {"customer_id": customer, **data})
            wrong.append(f"{data}: accepted")
        except ValidationError as exc:
            if field not in exc.errors:
                wrong.append(f"{data}: errors {exc.errors}, want {field}")
    assert wrong == []
    assert helpers.snapshot(crm) == before
    c = create_contact(crm.ctx(), {"customer_id": customer, "name": "张三"})
    with pytest.raises(ValidationError) as exc:
        update_contact(crm.ctx(), c.id, {"phone": "12345"})
    assert "phone" in exc.value.errors
    for data, field in [({"name": ""}, "name"), ({"title": "x" * 121}, "title"),
                        ({"wechat": "x" * 65}, "wechat"), ({"remark": "长" * 2001}, "remark"),
                        ({"email": "nope"}, "email"), ({"customer_id": 2}, "customer_id")]:
        with pytest.raises(ValidationError) as exc:
            update_contact(crm.ctx(), c.id, data)
        assert field in exc.value.errors, (data, exc.value.errors)
    assert helpers.snapshot(crm)["crm_audit"] == before["crm_audit"] + 1  # the create only
    assert get_contact(crm.ctx(), c.id).version == 1
    assert update_contact(crm.ctx(), c.id, {"name": "  ＬＩ　 Ｌｅｉ "}).name == "LI Lei"  # as on create


def test_contact_of_a_missing_customer_is_not_found(crm: Kernel, helpers: Any) -> None:
    before = helpers.snapshot(crm)
    with pytest.raises(NotFound):
        create_contact(crm.ctx(), {"customer_id": 999, "name": "张三"})
    assert helpers.snapshot(crm) == before


def test_a_contact_cannot_be_moved_to_another_customer(crm: Kernel, customer: int) -> None:
    c = create_contact(crm.ctx(), {"customer_id": customer, "name": "张三"})
    other = create_customer(crm.ctx(), {"name": "Other"}).id
    with pytest.raises(ValidationError) as exc:
        update_contact(crm.ctx(), c.id, {"customer_id": other})
    assert exc.value.errors == {"customer_id": ["this field cannot be set here"]}
    assert get_contact(crm.ctx(), c.id).customer_id == customer


def test_exactly_one_primary_contact(crm: Kernel, customer: int) -> None:
    ctx = crm.ctx()
    a = create_contact(ctx, {"customer_id": customer, "name": "A"})
    b = create_contact(ctx, {"customer_id": customer, "name": "B"})
    assert (a.is_primary, b.is_primary) == (True, False)  # the first one is the primary one
    create_contact(ctx, {"customer_id": customer, "name": "C", "is_primary": True})
    assert [(c.name, c.is_primary) for c in list_contacts(ctx, customer)] == [
        ("C", True), ("A", False), ("B", False)]
    update_contact(ctx, b.id, {"is_primary": True})
    assert [c.name for c in list_contacts(ctx, customer) if c.is_primary] == ["B"]


def test_secrets_are_encrypted_at_rest_and_kept_out_of_the_audit(crm: Kernel, helpers: Any,
                                                                 customer: int) -> None:
    ctx = crm.ctx(interface="api")
    c = create_contact(ctx, {"customer_id": customer, "name": "张三", "phone": "+86 138 1234 5678",
                             "id_number": "11010519491231002x"})
    assert (c.phone, c.id_number, c.phone_masked) == ("13812345678", "11010519491231002X", False)
    with crm.new_session() as s:
        raw = s.scalar(select(Contact).where(Contact.id == c.id))
        assert "13812345678" not in (raw.phone_enc or "")
        assert "1101051949" not in (raw.id_number_enc or "")
    updated = update_contact(ctx, c.id, {"phone": "139 8765 4321"}, version=1)
    assert (updated.phone, updated.version) == ("13987654321", 2)
    [entry] = helpers.audit_entries(crm, AuditEntry.action == "contact.update")
    assert entry.changes == {"phone": ["(hidden)", "(changed)"]}
    for row in [*helpers.audit_entries(crm), *helpers.outbox_rows(crm)]:
        text = repr(getattr(row, "changes", "")) + repr(getattr(row, "payload", ""))
        assert "13812345678" not in text and "13987654321" not in text
    # the search index follows the phone
    assert [x.id for x in list_customers(ctx, {"q": "139-8765-4321"}).items] == [customer]
    assert list_customers(ctx, {"q": "138 1234 5678"}).items == []


def test_contact_writes_are_audited_with_one_event_each(crm: Kernel, helpers: Any,
                                                       customer: int) -> None:
    sales = helpers.add_user(crm, "mgr", "sales_manager")
    from crm_core.services.customers import assign_owner

    assign_owner(crm.ctx(), [customer], sales.id)
    ctx = crm.ctx(sales, "web")
    c = create_contact(ctx, {"customer_id": customer, "name": "张三", "title": "经理"})
    update_contact(ctx, c.id, {"title": "总经理"}, version=1)
    delete_contact(ctx, c.id, version=2)
    entries = helpers.audit_entries(crm, AuditEntry.entity == "contact")
    assert [(e.action, e.entity_id, e.actor_login, e.interface) for e in entries] == [
        ("contact.create", c.id, "mgr", "web"), ("contact.update", c.id, "mgr", "web"),
        ("contact.delete", c.id, "mgr", "web")]
    assert entries[1].changes == {"title": ["经理", "总经理"]}
    assert entries[2].changes["title"] == ["总经理", None]
    events = helpers.outbox_rows(crm, OutboxEvent.entity == "contact")
    assert [(e.name, e.entity_id) for e in events] == [
        ("contact.created", c.id), ("contact.updated", c.id), ("contact.deleted", c.id)]


def test_stale_contact_version_is_a_conflict(crm: Kernel, helpers: Any, customer: int) -> None:
    c = create_contact(crm.ctx(), {"customer_id": customer, "name": "张三"})
    update_contact(crm.ctx(), c.id, {"title": "A"}, version=1)
    before = helpers.snapshot(crm)
    with pytest.raises(Conflict):
        update_contact(crm.ctx(), c.id, {"title": "B"}, version=1)
    with pytest.raises(Conflict):
        delete_contact(crm.ctx(), c.id, version=1)
    assert helpers.snapshot(crm) == before
    assert get_contact(crm.ctx(), c.id).title == "A"


def test_deleting_a_contact_keeps_its_followups(crm: Kernel, customer: int) -> None:
    c = create_contact(crm.ctx(), {"customer_id": customer, "name": "张三"})
    fu = followups_svc.create_followup(crm.ctx(), {"customer_id": customer, "contact_id": c.id,
                                                   "content": "call"})
    delete_contact(crm.ctx(), c.id)
    assert followups_svc.get_followup(crm.ctx(), fu.id).contact_id is None
    with pytest.raises(NotFound):
        get_contact(crm.ctx(), c.id)
