"""Assignment rules: order, every action, fallback, explanation, manual override, batches."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from crm_leads import services as svc
from crm_leads.services import rules
from crm_leads.services.webform import create_token, submit
from leads_support import People, lead_data
from sqlalchemy import select

from crm_core.errors import PermissionDenied
from crm_core.models import AuditEntry


def rule(people: People, **kw: Any) -> Any:
    return rules.create_rule(people.ctx("admin"), kw)


def test_first_matching_rule_wins_and_reason_is_recorded(people: People) -> None:
    big = rule(people, name="big east", action="user", user_id=people.ids["rep_b"],
               conditions={"regions": ["华东"], "value_min": "100000"})
    rule(people, name="east", action="user", user_id=people.ids["rep_a"],
         conditions={"regions": ["华东"]})
    ctx = people.ctx("mgr_east")
    small = svc.create_lead(ctx, lead_data(n=1, estimated_value="5000"))
    large = svc.create_lead(ctx, lead_data(n=2, estimated_value="250000"))
    assert small.owner_id == people.ids["rep_a"]
    assert large.owner_id == people.ids["rep_b"] and large.assignment_rule_id == big.id
    assert "big east" in (large.assignment_reason or "") and "≥ 100000" in (large.assignment_reason or "")
    with people.kernel.new_session() as s:
        summary = s.scalar(select(AuditEntry.summary).where(
            AuditEntry.action == "lead.assign", AuditEntry.entity_id == large.id))
    assert summary == large.assignment_reason
    # moving the second rule up changes who gets the next big lead
    rules.move_rule(people.ctx("admin"), big.id, +1)
    again = svc.create_lead(ctx, lead_data(n=3, estimated_value="250000"))
    assert again.owner_id == people.ids["rep_a"]


def test_conditions_industry_source_value_range_and_custom(people: People) -> None:
    from crm_core.services.custom_fields import create_field

    create_field(people.system, {"entity": "leads.lead", "key": "tier", "label": "等级", "type": "choice",
                                 "options": ["A", "B"]})
    rule(people, name="tier A", action="user", user_id=people.ids["rep_s"],
         conditions={"custom": {"tier": "A"}, "industries": ["I"], "sources": ["referral"],
                     "value_min": "1000", "value_max": "9000"})
    ctx = people.ctx("admin")
    hit = svc.create_lead(ctx, lead_data(n=1, source="referral", estimated_value="5000",
                                         custom={"tier": "A"}))
    miss_custom = svc.create_lead(ctx, lead_data(n=2, source="referral", estimated_value="5000",
                                                 custom={"tier": "B"}))
    miss_value = svc.create_lead(ctx, lead_data(n=3, source="referral", estimated_value="9000.01",
                                                custom={"tier": "A"}))
    miss_source = svc.create_lead(ctx, lead_data(n=4, source="website", estimated_value="5000",
                                                 custom={"tier": "A"}))
    assert hit.owner_id == people.ids["rep_s"] and "tier=A" in (hit.assignment_reason or "")
    for lead in (miss_custom, miss_value, miss_source):
        assert lead.owner_id == people.ids["admin"]  # no rule matched: the creator keeps it


def test_round_robin_rotates_within_team(people: People) -> None:
    rule(people, name="rr", action="round_robin", team_id=people.teams["east"])
    owners = [svc.create_lead(people.system, lead_data(n=i)).owner_id for i in range(6)]
    a, b = people.ids["rep_a"], people.ids["rep_b"]
    assert owners == [a, b, a, b, a, b]  # members in id order, one slot each


def test_fewest_open_leads(people: People) -> None:
    a, b = people.ids["rep_a"], people.ids["rep_b"]
    for i in range(3):
        svc.create_lead(people.ctx("rep_a"), lead_data(n=100 + i))  # rep_a already has 3 open
    closed = svc.create_lead(people.ctx("rep_b"), lead_data(n=200))
    svc.update_lead(people.ctx("rep_b"), closed.id, {"status": "disqualified",
                                                     "disqualified_reason": "no budget"})
    rule(people, name="least", action="least_open", team_id=people.teams["east"])
    owners = [svc.create_lead(people.system, lead_data(n=i)).owner_id for i in range(4)]
    assert owners == [b, b, b, a]  # rep_b: 0 open (a disqualified one doesn't count)
    last = svc.get_lead(people.ctx("admin"), svc.list_leads(people.ctx("admin")).items[0].id)
    assert "fewest open leads" in (last.assignment_reason or "")


def test_fallback_and_no_rule(people: People) -> None:
    rule(people, name="south only", action="user", user_id=people.ids["rep_s"],
         conditions={"regions": ["华南"]})
    orphan = submit(people.system, create_token(people.ctx("admin"), "site").token, "1.2.3.4",
                    lead_data(n=1, estimated_value=None))
    assert orphan.owner_id is None and "no fallback" in (orphan.assignment_reason or "")
    rule(people, name="fallback", action="user", user_id=people.ids["mgr_east"], is_fallback=True)
    lead = svc.create_lead(people.system, lead_data(n=2))
    assert lead.owner_id == people.ids["mgr_east"]
    assert "fallback" in (lead.assignment_reason or "")
    south = svc.create_lead(people.system, lead_data(n=3, region="华南"))
    assert south.owner_id == people.ids["rep_s"]


def test_manual_override_is_permission_checked(people: People) -> None:
    lead = svc.create_lead(people.ctx("rep_a"), lead_data())
    with pytest.raises(PermissionDenied):
        svc.reassign(people.ctx("rep_a"), lead.id, people.ids["rep_b"])
    with pytest.raises(PermissionDenied):  # rep_s is not in the east team
        svc.reassign(people.ctx("mgr_east"), lead.id, people.ids["rep_s"])
    row = svc.reassign(people.ctx("mgr_east"), lead.id, people.ids["rep_b"])
    assert row.owner_id == people.ids["rep_b"] and "manual override" in (row.assignment_reason or "")
    with people.kernel.new_session() as s:
        assert s.scalar(select(AuditEntry.id).where(AuditEntry.action == "lead.reassign",
                                                    AuditEntry.entity_id == lead.id))


def test_assign_many_in_batches_matches_single_path(people: People) -> None:
    """The bulk path gives the same owners, reasons, audit entries and events as one by one."""
    token = create_token(people.ctx("admin"), "site", rate_limit=1000).token
    ids = [submit(people.system, token, f"10.0.0.{i}", lead_data(n=i)).id for i in range(9)]
    rule(people, name="rr", action="round_robin", team_id=people.teams["east"])
    rule(people, name="fb", action="user", user_id=people.ids["rep_s"], is_fallback=True)
    with pytest.raises(PermissionDenied):
        svc.assign_many(people.ctx("mgr_east"))
    assert svc.assign_many(people.system, batch=4) == 9
    leads = [svc.get_lead(people.ctx("admin"), i) for i in ids]
    counts = Counter(lead.owner_id for lead in leads)
    assert counts == {people.ids["rep_a"]: 5, people.ids["rep_b"]: 4}
    assert all("round-robin" in (lead.assignment_reason or "") for lead in leads)
    with people.kernel.new_session() as s:
        summaries = list(s.scalars(select(AuditEntry.summary).where(AuditEntry.action == "lead.assign")))
    assert sum("round-robin" in x for x in summaries) == 9  # + 9 "no rule matched" on arrival
    assert sum("no fallback" in x for x in summaries) == 9
    assert svc.assign_many(people.system) == 0  # nothing left without an owner


def test_switched_off_rule_is_skipped(people: People) -> None:
    off = rule(people, name="off", action="user", user_id=people.ids["rep_b"])
    rule(people, name="on", action="user", user_id=people.ids["rep_a"])
    rules.set_rule_active(people.ctx("admin"), off.id, False)
    assert svc.create_lead(people.system, lead_data()).owner_id == people.ids["rep_a"]
    rules.set_rule_active(people.ctx("admin"), off.id, True)
    assert svc.create_lead(people.system, lead_data(n=2)).owner_id == people.ids["rep_b"]
    with pytest.raises(PermissionDenied):
        rules.set_rule_active(people.ctx("mgr_east"), off.id, False)
