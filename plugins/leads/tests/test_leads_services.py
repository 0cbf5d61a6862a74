"""Lead records through the services: normalisation, validation, scope, first contact."""

from __future__ import annotations

from decimal import Decimal

import pytest
from crm_leads import services as svc
from leads_support import People, lead_data
from sqlalchemy import select

from crm_core.errors import NotFound, PermissionDenied, ValidationError
from crm_core.models import AuditEntry


def test_create_normalises_phone_like_customers_and_owner_is_creator(people: People) -> None:
    lead = svc.create_lead(people.ctx("rep_a"), lead_data(phone="+86 138-0013-8000", email=" A@Ex.CN "))
    assert lead.phone == "+8613800138000"
    assert lead.email == "a@ex.cn"
    assert lead.estimated_value == Decimal("50000.00")
    assert lead.status == "new" and lead.owner_id == people.ids["rep_a"]
    assert "no rule matched" in (lead.assignment_reason or "")


@pytest.mark.parametrize(("field", "value"), [("phone", "12345"), ("email", "nope"), ("source", "tv"),
                                               ("estimated_value", "-3"), ("name", "")])
def test_bad_input_is_refused_and_nothing_stored(people: People, field: str, value: str) -> None:
    ctx = people.ctx("rep_a")
    with pytest.raises(ValidationError) as exc:
        svc.create_lead(ctx, lead_data(**{field: value}))
    assert field in exc.value.errors
    assert svc.list_leads(people.ctx("admin")).items == []


def test_phone_or_email_required(people: People) -> None:
    with pytest.raises(ValidationError) as exc:
        svc.create_lead(people.ctx("rep_a"), lead_data(phone=None))
    assert "phone" in exc.value.errors


def test_record_scope_rep_own_manager_team_admin_all(people: People) -> None:
    a = svc.create_lead(people.ctx("rep_a"), lead_data(n=1))
    b = svc.create_lead(people.ctx("rep_b"), lead_data(n=2))
    s = svc.create_lead(people.ctx("rep_s"), lead_data(n=3))

    def ids(login: str) -> set[int]:
        return {lead.id for lead in svc.list_leads(people.ctx(login)).items}

    assert ids("rep_a") == {a.id}
    assert ids("mgr_east") == {a.id, b.id}
    assert ids("mgr_south") == {s.id}
    assert ids("admin") == {a.id, b.id, s.id}
    with pytest.raises(NotFound):
        svc.get_lead(people.ctx("rep_a"), b.id)
    with pytest.raises(NotFound):
        svc.update_lead(people.ctx("rep_a"), b.id, {"name": "x"})
    with pytest.raises(PermissionDenied):  # reps may read their own but not delete
        svc.delete_lead(people.ctx("rep_a"), a.id)


def test_update_version_and_first_contact(people: People) -> None:
    ctx = people.ctx("rep_a")
    lead = svc.create_lead(ctx, lead_data())
    from crm_core.errors import Conflict

    with pytest.raises(Conflict):
        svc.update_lead(ctx, lead.id, {"company": "新"}, version=lead.version + 5)
    up = svc.update_lead(ctx, lead.id, {"status": "qualified"}, version=lead.version)
    assert up.status == "qualified" and up.first_contacted_at is not None
    with pytest.raises(ValidationError) as exc:
        svc.update_lead(ctx, lead.id, {"status": "disqualified"})
    assert "disqualified_reason" in exc.value.errors
    with people.kernel.new_session() as s:
        actions = list(s.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == lead.id,
                                                                 AuditEntry.entity == "leads.lead")))
    assert "lead.contacted" in actions and "lead.update" in actions


def test_mark_contacted_once(people: People) -> None:
    ctx = people.ctx("rep_a")
    lead = svc.create_lead(ctx, lead_data())
    first = svc.mark_contacted(ctx, lead.id)
    again = svc.mark_contacted(ctx, lead.id)
    assert first.status == "contacted" and again.first_contacted_at == first.first_contacted_at


def test_keyset_pages_and_filters(people: People) -> None:
    ctx = people.ctx("rep_a")
    made = [svc.create_lead(ctx, lead_data(n=i, source="referral" if i % 2 else "website")).id
            for i in range(5)]
    page1 = svc.list_leads(ctx, {"limit": 2})
    page2 = svc.list_leads(ctx, {"limit": 2, "cursor": page1.next_cursor})
    page3 = svc.list_leads(ctx, {"limit": 2, "cursor": page2.next_cursor})
    seen = [x.id for p in (page1, page2, page3) for x in p.items]
    assert seen == sorted(made, reverse=True) and page3.next_cursor is None
    assert {x.id for x in svc.list_leads(ctx, {"source": "referral"}).items} == set(made[1::2])
    with pytest.raises(ValidationError):
        svc.list_leads(ctx, {"cursor": "garbage"})
