"""``crm demo`` with the leads plugin: ~150 leads over sources and regions, some converted,
assignment rules, a web form; the same seed gives the same leads."""

from __future__ import annotations

from collections import Counter

from crm_leads.models import AssignmentRule, FormToken, Lead
from sqlalchemy import func, select

from crm_core.demo import load_demo
from crm_core.kernel import Kernel
from crm_core.models import User


def test_demo_leads(crm_kernel: Kernel) -> None:
    load_demo(crm_kernel, customers=5, seed=11)
    with crm_kernel.new_session() as s:
        leads = list(s.scalars(select(Lead)))
        rules = list(s.scalars(select(AssignmentRule)))
        forms = s.scalar(select(func.count()).select_from(FormToken))
        logins = {u.id: u.login for u in s.scalars(select(User))}
    assert len(leads) == 150
    assert 3 <= len(rules) <= 5 and sum(r.is_fallback for r in rules) == 1 and forms == 1
    statuses = Counter(lead.status for lead in leads)
    assert statuses["converted"] >= 5 and statuses["new"] >= 20 and statuses["disqualified"] >= 3
    assert len({lead.source for lead in leads}) >= 5 and len({lead.region for lead in leads}) >= 5
    owners = {logins[lead.owner_id] for lead in leads if lead.owner_id}
    assert {"zhang.wei", "li.na", "wang.fang", "liu.yang", "lucas.zhao"} <= owners
    assert all(lead.assignment_reason for lead in leads)
    converted = [lead for lead in leads if lead.status == "converted"]
    assert all(lead.converted_customer_id for lead in converted)
