"""Stages, history, win / lose, approvals, milestones and access rules, through the services."""

from __future__ import annotations

from decimal import Decimal

import pytest
from crm_pipeline.services import (
    ApprovalRequired,
    create_opportunity,
    get_opportunity,
    lose_opportunity,
    move_stage,
    set_milestone,
    stage_history,
    update_opportunity,
    win_opportunity,
)
from crm_pipeline.services.approvals import decide_approval, pending_approvals, request_approval
from crm_pipeline.services.config import update_pipeline, update_stage
from crm_pipeline.services.queries import list_opportunities
from sqlalchemy import select
from sqlmodel import col

from crm_core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from crm_core.models import AuditEntry, Customer
from crm_core.models.system import OutboxEvent
from crm_core.services.customers import get_customer


def _names(kernel):
    with kernel.new_session() as s:
        return [e.name for e in s.scalars(select(OutboxEvent).order_by(col(OutboxEvent.id)))]


def _new(people, owner="rep_a", **data):
    cust = data.pop("customer", None) or people.customer(owner)
    return create_opportunity(people.ctx(owner), {"customer_id": cust.id, "name": "机会", **data})


def test_probability_follows_stage_unless_overridden(people):
    a = _new(people)
    assert move_stage(people.ctx("rep_a"), a.id, "proposal").probability == 50
    b = _new(people, probability=15)
    assert b.probability_overridden
    b = move_stage(people.ctx("rep_a"), b.id, "negotiation")
    assert b.probability == 15 and b.probability_overridden  # an override sticks
    b = update_opportunity(people.ctx("rep_a"), b.id, {"probability": None})
    assert b.probability == 70 and not b.probability_overridden  # back to the stage default
    update_stage(people.ctx("admin"), "default", "negotiation", {"probability": 75})
    assert get_opportunity(people.ctx("rep_a"), b.id).probability == 75


def test_history_records_each_stage_with_time(people):
    opp = _new(people)
    ctx = people.ctx("rep_a")
    move_stage(ctx, opp.id, "intent")
    move_stage(ctx, opp.id, "proposal")
    hist = stage_history(ctx, opp.id)
    assert [h.stage for h in hist] == ["lead", "intent", "proposal"]
    assert hist[0].left_at == hist[1].entered_at and hist[2].left_at is None
    assert all(h.seconds_in_stage is not None and h.seconds_in_stage >= 0 for h in hist)
    assert hist[1].from_stage_id == hist[0].stage_id
    assert _names(people.kernel).count("opportunity.stage_changed") == 2


def test_lost_needs_a_reason(people):
    opp = _new(people)
    ctx = people.ctx("rep_a")
    with pytest.raises(ValidationError) as err:
        move_stage(ctx, opp.id, "lost")
    assert "lost_reason" in err.value.errors
    with pytest.raises(ValidationError):
        lose_opportunity(ctx, opp.id, "   ")
    assert get_opportunity(ctx, opp.id).status == "open"
    lost = lose_opportunity(ctx, opp.id, "预算取消")
    assert lost.status == "lost" and lost.probability == 0 and lost.lost_reason == "预算取消"
    assert "opportunity.lost" in _names(people.kernel)


def test_won_marks_the_customer_won_in_the_same_transaction(people):
    cust = people.customer("rep_a")
    opp = _new(people, customer=cust, amount="50000")
    won = win_opportunity(people.ctx("rep_a"), opp.id)
    assert won.status == "won" and won.probability == 100 and won.closed_on is not None
    assert get_customer(people.ctx("rep_a"), cust.id).status == "won"
    names = _names(people.kernel)
    assert "opportunity.won" in names and "customer.updated" in names
    with people.kernel.new_session() as s:
        won_event = s.scalars(select(OutboxEvent).where(col(OutboxEvent.name) == "opportunity.won")).one()
        assert won_event.payload["amount"] == "50000.00" and won_event.payload["stage"] == "won"
        assert won_event.payload["customer_id"] == cust.id
        audit = s.scalars(select(AuditEntry).where(col(AuditEntry.action) == "customer.update")).one()
        assert audit.actor_login == "rep_a"


def test_a_failed_win_leaves_the_customer_untouched(people, crm_kernel):
    """A validation hook refusing the customer change rolls the whole win back."""
    from crm_core.hookspecs import hookimpl
    from crm_core.testing_web import register_temporarily

    class Refuse:
        @hookimpl
        def validate_entity(self, entity, data):
            return {"status": ["frozen"]} if entity == "customer" and data.get("status") == "won" else None

    cust = people.customer("rep_a")
    opp = _new(people, customer=cust)
    with register_temporarily(crm_kernel, Refuse()), pytest.raises(ValidationError):
        win_opportunity(people.ctx("rep_a"), opp.id)
    assert get_opportunity(people.ctx("rep_a"), opp.id).status == "open"
    with crm_kernel.new_session() as s:
        assert s.get(Customer, cust.id).status == "potential"
    assert "opportunity.won" not in _names(crm_kernel)


def test_approval_threshold_flow(people):
    update_pipeline(people.ctx("admin"), "default", {"approval_threshold": "100000"})
    small = _new(people, amount="100000")
    assert win_opportunity(people.ctx("rep_a"), small.id).status == "won"  # not above: no approval
    big = _new(people, amount="100000.01")
    rep = people.ctx("rep_a")
    with pytest.raises(ApprovalRequired):
        win_opportunity(rep, big.id)
    with pytest.raises(ValidationError):
        request_approval(rep, small.id)  # closed: nothing to approve
    request_approval(rep, big.id, "年底签约")
    with pytest.raises(Conflict):
        request_approval(rep, big.id)
    with pytest.raises(ApprovalRequired):
        win_opportunity(rep, big.id)  # pending is not approved
    # the rep may not approve; another team's manager can't even see it
    with pytest.raises(PermissionDenied):
        decide_approval(rep, big.id, True)
    with pytest.raises(NotFound):
        decide_approval(people.ctx("mgr_south"), big.id, True)
    assert [o.id for o in pending_approvals(people.ctx("mgr_east")).items] == [big.id]
    assert pending_approvals(people.ctx("mgr_south")).items == []
    mgr = people.ctx("mgr_east")
    with pytest.raises(ValidationError):
        decide_approval(mgr, big.id, False, "")  # a rejection needs a comment
    rejected = decide_approval(mgr, big.id, False, "折扣太大")
    assert rejected.status == "rejected"
    request_approval(rep, big.id)
    assert decide_approval(mgr, big.id, True, "同意").status == "approved"
    assert win_opportunity(rep, big.id).status == "won"
    with people.kernel.new_session() as s:
        actions = list(s.scalars(select(col(AuditEntry.action)).where(
            col(AuditEntry.entity_id) == big.id, col(AuditEntry.action).like("opportunity.approval%"))
            .order_by(col(AuditEntry.id))))
    assert actions == ["opportunity.approval_request", "opportunity.approval_reject",
                       "opportunity.approval_request", "opportunity.approval_approve"]


def test_approvers_are_notified(people):
    from crm_core.models import Notification

    update_pipeline(people.ctx("admin"), "default", {"approval_threshold": "1000"})
    big = _new(people, amount="5000")
    request_approval(people.ctx("rep_a"), big.id)
    decide_approval(people.ctx("mgr_east"), big.id, True)
    with people.kernel.new_session() as s:
        got = {(n.user_id, n.kind, n.url) for n in s.scalars(select(Notification))}
    url = f"/pipeline/opportunities/{big.id}"
    assert got == {(people.ids["mgr_east"], "pipeline.approval", url),
                   (people.ids["rep_a"], "pipeline.approval_decided", url)}


def test_changing_the_amount_voids_an_approval(people):
    update_pipeline(people.ctx("admin"), "default", {"approval_threshold": "1000"})
    opp = _new(people, amount="5000")
    request_approval(people.ctx("rep_a"), opp.id)
    decide_approval(people.ctx("mgr_east"), opp.id, True)
    opp = update_opportunity(people.ctx("rep_a"), opp.id, {"amount": "900000"})
    assert opp.approval_status == "none"
    with pytest.raises(ApprovalRequired):
        win_opportunity(people.ctx("rep_a"), opp.id)


def test_rep_sees_and_moves_only_own_manager_the_team(people):
    mine = _new(people, "rep_a")
    colleague = _new(people, "rep_b")
    south = _new(people, "rep_s")
    rep = people.ctx("rep_a")
    assert {o.id for o in list_opportunities(rep).items} == {mine.id}
    with pytest.raises(NotFound):
        get_opportunity(rep, colleague.id)
    with pytest.raises(NotFound):
        move_stage(rep, colleague.id, "intent")
    move_stage(rep, mine.id, "intent")
    mgr = people.ctx("mgr_east")
    assert {o.id for o in list_opportunities(mgr).items} == {mine.id, colleague.id}
    assert move_stage(mgr, colleague.id, "proposal").stage == "proposal"
    with pytest.raises(NotFound):
        move_stage(mgr, south.id, "intent")
    assert {o.id for o in list_opportunities(people.ctx("admin")).items} == {mine.id, colleague.id, south.id}
    # a rep may not hand an opportunity to someone else
    with pytest.raises(PermissionDenied):
        update_opportunity(rep, mine.id, {"owner_id": people.ids["rep_b"]})
    assert update_opportunity(mgr, mine.id, {"owner_id": people.ids["rep_b"]}).owner_id == people.ids["rep_b"]


def test_optimistic_locking_and_milestones(people):
    opp = _new(people)
    ctx = people.ctx("rep_a")
    opp2 = set_milestone(ctx, opp.id, "quote", True, version=opp.version)
    assert "quote" in opp2.milestones and opp2.version == opp.version + 1
    with pytest.raises(Conflict):
        update_opportunity(ctx, opp.id, {"name": "x"}, version=opp.version)
    with pytest.raises(Conflict):
        move_stage(ctx, opp.id, "intent", version=opp.version)
    assert set_milestone(ctx, opp.id, "quote", False).milestones == {}
    with pytest.raises(ValidationError):
        set_milestone(ctx, opp.id, "nope", True)


def test_keyset_list_filters_and_sorts(people):
    ctx = people.ctx("admin")
    cust = people.customer("rep_a")
    made = [create_opportunity(ctx, {"customer_id": cust.id, "name": f"O{i}", "amount": str(i * 1000),
                                     "owner_id": people.ids["rep_a"]}) for i in range(1, 8)]
    seen, cursor = [], None
    while True:
        page = list_opportunities(ctx, {"sort": "-amount", "limit": 3, "cursor": cursor})
        seen += [o.amount for o in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == [Decimal(i * 1000) for i in range(7, 0, -1)]
    assert [o.id for o in list_opportunities(ctx, {"min_amount": "6000"}).items] == [made[6].id, made[5].id]
    move_stage(ctx, made[0].id, "intent")
    assert [o.id for o in list_opportunities(ctx, {"stage": "intent"}).items] == [made[0].id]
    with pytest.raises(ValidationError):
        list_opportunities(ctx, {"sort": "owner_id"})
    with pytest.raises(ValidationError):
        list_opportunities(ctx, {"cursor": "garbage"})
    with pytest.raises(ValidationError):
        list_opportunities(ctx, {"colour": "red"})


def test_custom_fields_on_opportunities(people, crm_app):
    from crm_core.services.custom_fields import create_field

    create_field(people.ctx("admin"), {"entity": "pipeline.opportunity", "key": "competitor",
                                        "label": "竞争对手", "label_en": "Competitor", "type": "text",
                                        "required": True})
    cust = people.customer("rep_a")
    with pytest.raises(ValidationError) as err:
        create_opportunity(people.ctx("rep_a"), {"customer_id": cust.id, "name": "x"})
    assert "custom.competitor" in err.value.errors
    opp = create_opportunity(people.ctx("rep_a"), {"customer_id": cust.id, "name": "x",
                                                   "custom": {"competitor": "友商甲"}})
    assert opp.custom == {"competitor": "友商甲"}
    c = crm_app.client()
    assert c.login("rep_a").status_code == 303
    form = c.get(f"/pipeline/opportunities/{opp.id}/edit").text
    assert 'name="cf_competitor"' in form and "友商甲" in form and "竞争对手" in form
