"""The contract other plugins rely on: create_opportunity and its events (contracts.md)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from crm_pipeline.services import create_opportunity, get_opportunity
from sqlalchemy import select
from sqlmodel import col

from crm_core.errors import NotFound, PermissionDenied, ValidationError
from crm_core.models import AuditEntry
from crm_core.models.system import OutboxEvent


def _events(kernel, name):
    with kernel.new_session() as s:
        return [e.payload for e in s.scalars(select(OutboxEvent).where(col(OutboxEvent.name) == name))]


def test_create_defaults_from_first_stage_and_actor(people):
    cust = people.customer("rep_a")
    opp = create_opportunity(people.ctx("rep_a"), {"customer_id": cust.id, "name": "年度采购",
                                                   "amount": "120000.50"})
    assert opp.stage == "lead" and opp.probability == 10 and not opp.probability_overridden
    assert opp.owner_id == people.ids["rep_a"] and opp.currency == "CNY"
    assert opp.amount == Decimal("120000.50") and opp.status == "open"
    assert get_opportunity(people.ctx("rep_a"), opp.id).amount == Decimal("120000.50")
    (payload,) = _events(people.kernel, "opportunity.created")
    assert payload == {"id": opp.id, "customer_id": cust.id, "owner_id": people.ids["rep_a"],
                       "name": "年度采购", "amount": "120000.50", "currency": "CNY",
                       "stage": "lead", "status": "open", "probability": 10}
    with people.kernel.new_session() as s:
        audit = s.scalars(select(AuditEntry).where(col(AuditEntry.action) == "opportunity.create")).one()
        assert audit.entity_id == opp.id and audit.actor_login == "rep_a"


def test_create_with_stage_probability_override_and_owner(people):
    cust = people.customer("rep_a")
    opp = create_opportunity(people.ctx("mgr_east"), {
        "customer_id": cust.id, "name": "扩容", "stage": "proposal", "probability": 65,
        "owner_id": people.ids["rep_a"], "expected_close": "2026-12-31"})
    assert opp.stage == "proposal" and opp.probability == 65 and opp.probability_overridden
    assert opp.owner_id == people.ids["rep_a"] and str(opp.expected_close) == "2026-12-31"


def test_create_joins_the_callers_transaction(people):
    cust = people.customer("rep_a")
    ctx = people.ctx("rep_a")
    with pytest.raises(RuntimeError), ctx.uow():
        create_opportunity(ctx, {"customer_id": cust.id, "name": "回滚"})
        raise RuntimeError("the caller fails after the opportunity was written")
    assert _events(people.kernel, "opportunity.created") == []


@pytest.mark.parametrize("data, field", [
    ({"name": "x"}, "customer_id"),
    ({"name": ""}, "name"),
    ({"name": "x", "amount": "-5"}, "amount"),
    ({"name": "x", "amount": "1.234"}, "amount"),
    ({"name": "x", "stage": "nope"}, "stage"),
    ({"name": "x", "stage": "won"}, "stage"),
    ({"name": "x", "probability": 101}, "probability"),
    ({"name": "x", "currency": "yuan"}, "currency"),
    ({"name": "x", "status": "won"}, "status"),
])
def test_bad_input_is_refused_and_nothing_written(people, data, field):
    cust = people.customer("rep_a")
    if field != "customer_id":
        data = {"customer_id": cust.id, **data}
    with pytest.raises(ValidationError) as err:
        create_opportunity(people.ctx("rep_a"), data)
    assert any(k.startswith(field) for k in err.value.errors), err.value.errors
    assert _events(people.kernel, "opportunity.created") == []


def test_customer_must_be_readable_and_owner_in_scope(people):
    other = people.customer("rep_s")
    with pytest.raises(NotFound):
        create_opportunity(people.ctx("rep_a"), {"customer_id": other.id, "name": "x"})
    mine = people.customer("rep_a")
    with pytest.raises(PermissionDenied):
        create_opportunity(people.ctx("rep_a"), {"customer_id": mine.id, "name": "x",
                                                 "owner_id": people.ids["rep_b"]})
    with pytest.raises(PermissionDenied):  # a manager gives opportunities only within the team
        create_opportunity(people.ctx("mgr_east"), {"customer_id": mine.id, "name": "x",
                                                    "owner_id": people.ids["rep_s"]})
