"""Converting a lead opens an opportunity in the same transaction; a failure rolls all back."""

from __future__ import annotations

from typing import Any

import pytest
from crm_leads import services as leads_svc
from crm_leads.services.convert import conversion_fields, convert_lead
from crm_leads_pipeline.manifest import manifest
from crm_pipeline.models import Opportunity
from sqlalchemy import func, select

from crm_core.errors import ValidationError
from crm_core.kernel import Kernel
from crm_core.models import Customer
from crm_core.testing_web import CrmSite, Factories, check_declared_dependencies


def _count(k: Kernel, model: Any) -> int:
    with k.new_session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def _rep(f: Factories, k: Kernel) -> Any:
    f.user("sales_rep", login="rep")
    ctx = f.ctx("rep")
    lead = leads_svc.create_lead(ctx, {"name": "赵六", "company": "六六科技有限公司",
                                       "phone": "13600136000", "estimated_value": "88000"})
    return ctx, lead


def test_runs_with_only_its_declared_dependencies(make_kernel: Any) -> None:
    checked = check_declared_dependencies(lambda ms: make_kernel(plugins=ms), manifest)
    assert set(checked["enabled"]) >= {"leads", "pipeline", "leads_pipeline"}


def test_conversion_opens_opportunity(crm_kernel: Kernel, crm_factory: Factories) -> None:
    ctx, lead = _rep(crm_factory, crm_kernel)
    keys = [f.key for f in conversion_fields(ctx, lead)]
    assert keys == ["pipeline_create", "pipeline_name", "pipeline_amount"]
    result = convert_lead(ctx, lead.id, {"options": {"pipeline_create": "on"}})
    opp_id = result.extra["opportunity_id"]
    with crm_kernel.new_session() as s:
        opp = s.get(Opportunity, opp_id)
    assert opp is not None and opp.customer_id == result.customer_id
    assert opp.amount == lead.estimated_value and opp.name == "六六科技有限公司 商机"
    assert opp.owner_id == ctx.actor.id


def test_without_the_option_no_opportunity(crm_kernel: Kernel, crm_factory: Factories) -> None:
    ctx, lead = _rep(crm_factory, crm_kernel)
    result = convert_lead(ctx, lead.id, {})
    assert result.extra == {} and _count(crm_kernel, Opportunity) == 0


def test_opportunity_failure_rolls_back_customer_and_lead(crm_kernel: Kernel,
                                                          crm_factory: Factories) -> None:
    ctx, lead = _rep(crm_factory, crm_kernel)
    customers = _count(crm_kernel, Customer)
    with pytest.raises(ValidationError) as exc:
        convert_lead(ctx, lead.id, {"options": {"pipeline_create": "on", "pipeline_amount": "-5"}})
    assert "pipeline_amount" in exc.value.errors
    assert _count(crm_kernel, Customer) == customers and _count(crm_kernel, Opportunity) == 0
    assert leads_svc.get_lead(ctx, lead.id).model_dump() == lead.model_dump()


def test_conversion_page_shows_the_fields_and_keeps_input(crm_app: CrmSite) -> None:
    f = crm_app.factories
    _ctx, lead = _rep(f, crm_app.kernel)
    c = crm_app.client()
    assert c.login("rep").status_code == 303
    page = c.get(f"/leads/{lead.id}/convert")
    assert "同时创建销售机会" in page.text and "六六科技有限公司 商机" in page.text
    bad = c.submit(f"/leads/{lead.id}/convert", {"pipeline_create": "on", "pipeline_amount": "abc",
                                                 "customer_name": "保留的名字"},
                   page=f"/leads/{lead.id}/convert")
    assert bad.status_code == 422 and "保留的名字" in bad.text and "field-error" in bad.text
    ok = c.submit(f"/leads/{lead.id}/convert", {"pipeline_create": "on", "pipeline_amount": "1000"},
                  page=f"/leads/{lead.id}/convert")
    assert ok.status_code == 303 and _count(crm_app.kernel, Opportunity) == 1
