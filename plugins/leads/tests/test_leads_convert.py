"""Conversion: customer + primary contact, matches offered, glue hook in the same transaction,
all-or-nothing; the conversion report computed in SQL."""

from __future__ import annotations

from typing import Any

import pytest
from crm_leads import services as svc
from crm_leads.hookspecs import ConversionField
from crm_leads.services import convert, reports
from leads_support import People, lead_data
from sqlalchemy import func, select

from crm_core.errors import ValidationError
from crm_core.hookspecs import hookimpl
from crm_core.models import AuditEntry, Contact, Customer
from crm_core.plugin_system.manifest import Manifest


def _count(people: People, model: Any) -> int:
    with people.kernel.new_session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_convert_creates_customer_and_primary_contact(people: People) -> None:
    ctx = people.ctx("rep_a")
    lead = svc.create_lead(ctx, lead_data(email="boss@acme.cn"))
    result = convert.convert_lead(ctx, lead.id, {})
    assert result.created_customer and result.contact_id
    with people.kernel.new_session() as s:
        customer = s.get(Customer, result.customer_id)
        contact = s.get(Contact, result.contact_id)
    assert customer is not None and customer.name == lead.company and customer.owner_id == people.ids["rep_a"]
    assert contact is not None and contact.is_primary and contact.email == "boss@acme.cn"
    after = svc.get_lead(ctx, lead.id)
    assert after.status == "converted" and after.converted_customer_id == result.customer_id
    with pytest.raises(ValidationError):
        convert.convert_lead(ctx, lead.id, {})


def test_existing_customer_offered_and_linked(people: People) -> None:
    ctx = people.ctx("rep_a")
    existing = people.factory.customer(as_user="rep_a", name="老客户有限公司",
                                       contacts=[{"name": "老王", "phone": "13800138000"}])
    lead = svc.create_lead(ctx, lead_data(phone="+86 138 0013 8000"))
    found = convert.conversion_matches(ctx, lead.id)
    assert [m.customer_id for m in found] == [existing.id] and found[0].reason == "same phone"
    before = _count(people, Customer)
    result = convert.convert_lead(ctx, lead.id, {"customer_id": existing.id})
    assert not result.created_customer and result.customer_id == existing.id
    assert _count(people, Customer) == before


def test_cannot_link_to_a_customer_out_of_scope(people: People) -> None:
    other = people.factory.customer(as_user="rep_s", name="别人的客户")
    lead = svc.create_lead(people.ctx("rep_a"), lead_data())
    from crm_core.errors import NotFound

    with pytest.raises(NotFound):
        convert.convert_lead(people.ctx("rep_a"), lead.id, {"customer_id": other.id})
    assert svc.get_lead(people.ctx("rep_a"), lead.id).status == "new"


class Glue:
    def __init__(self, fail: bool) -> None:
        self.fail = fail
        self.seen: list[dict[str, Any]] = []

    @hookimpl
    def lead_conversion_fields(self, kernel: Any, ctx: Any, lead: Any) -> list[ConversionField]:
        return [ConversionField("glue_note", "备注", "Note")]

    @hookimpl
    def on_lead_converting(self, kernel: Any, ctx: Any, lead: Any, customer_id: int,
                           options: dict[str, Any]) -> dict[str, Any] | None:
        with ctx.uow() as s:  # joins the conversion's transaction
            assert s.get(Customer, customer_id) is not None
        self.seen.append(options)
        if self.fail:
            raise RuntimeError("glue failed half-way")
        return {"glue": options.get("glue_note")}


def test_glue_hook_runs_in_the_transaction(people: People, register_temporarily: Any) -> None:
    glue = Glue(fail=False)
    m = Manifest(name="glue_ok", version="0.1.0", depends=("leads",), hooks=glue)
    with register_temporarily(m, kernel=people.kernel):
        lead = svc.create_lead(people.ctx("rep_a"), lead_data())
        assert [f.key for f in convert.conversion_fields(people.ctx("rep_a"), lead)] == ["glue_note"]
        result = convert.convert_lead(people.ctx("rep_a"), lead.id, {"options": {"glue_note": "hi"}})
    assert result.extra == {"glue": "hi"} and glue.seen == [{"glue_note": "hi"}]


def test_failure_half_way_leaves_no_customer_and_unchanged_lead(people: People,
                                                                register_temporarily: Any) -> None:
    lead = svc.create_lead(people.ctx("rep_a"), lead_data())
    customers, contacts = _count(people, Customer), _count(people, Contact)
    audits = _count(people, AuditEntry)
    m = Manifest(name="glue_bad", version="0.1.0", depends=("leads",), hooks=Glue(fail=True))
    with register_temporarily(m, kernel=people.kernel), pytest.raises(RuntimeError):
        convert.convert_lead(people.ctx("rep_a"), lead.id, {})
    assert _count(people, Customer) == customers and _count(people, Contact) == contacts
    assert _count(people, AuditEntry) == audits
    after = svc.get_lead(people.ctx("rep_a"), lead.id)
    assert after.model_dump() == lead.model_dump()


def test_report_by_source_in_sql(people: People) -> None:
    ctx = people.ctx("rep_a")
    web = [svc.create_lead(ctx, lead_data(n=i, source="website")) for i in range(4)]
    svc.create_lead(ctx, lead_data(n=9, source="referral"))
    svc.mark_contacted(ctx, web[0].id)
    convert.convert_lead(ctx, web[1].id, {})
    rows = {r.source: r for r in reports.by_source(ctx)}
    assert rows["website"].leads == 4 and rows["website"].converted == 1
    assert rows["website"].conversion_rate == 0.25 and rows["website"].contacted == 2
    assert rows["website"].avg_hours_to_first_contact is not None
    assert rows["website"].avg_hours_to_first_contact >= 0
    assert rows["referral"].contacted == 0 and rows["referral"].avg_hours_to_first_contact is None
    assert reports.by_source(people.ctx("rep_s")) == []  # scoped: rep_s reads none of these
