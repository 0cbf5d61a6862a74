"""The leads_pipeline plugin's hook implementations: converting a lead may open an opportunity
for the new (or linked) customer, in the conversion's transaction."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from crm_leads.hookspecs import ConversionField

from crm_core.errors import ValidationError
from crm_core.hookspecs import hookimpl

CREATE, NAME, AMOUNT = "pipeline_create", "pipeline_name", "pipeline_amount"
_YES = ("on", "true", "1", "yes", True)


def _default_name(lead: Any) -> str:
    return f"{lead.company or lead.name} 商机"


@hookimpl
def lead_conversion_fields(kernel: Any, ctx: Any, lead: Any) -> list[ConversionField]:
    if not ctx.actor.can("pipeline.create"):
        return []
    amount = lead.estimated_value if lead.estimated_value is not None else Decimal(0)
    return [
        ConversionField(CREATE, "同时创建销售机会", "Also open an opportunity", kind="checkbox"),
        ConversionField(NAME, "销售机会名称", "Opportunity name", default=_default_name(lead)),
        ConversionField(AMOUNT, "金额（元）", "Amount (CNY)", kind="decimal", default=str(amount),
                        help="默认取线索的预计金额", help_en="Defaults to the lead's estimated value"),
    ]


@hookimpl
def on_lead_converting(kernel: Any, ctx: Any, lead: Any, customer_id: int,
                       options: dict[str, Any]) -> dict[str, Any] | None:
    if options.get(CREATE) not in _YES:
        return None
    from crm_pipeline.services import create_opportunity

    amount = options.get(AMOUNT)
    if amount in (None, ""):
        amount = lead.estimated_value if lead.estimated_value is not None else 0
    data = {"customer_id": customer_id, "name": options.get(NAME) or _default_name(lead),
            "amount": str(amount)}
    try:
        opp = create_opportunity(ctx, data)  # joins the conversion's transaction (ctx.uow)
    except ValidationError as exc:  # show it on the conversion form's own inputs
        rename = {"name": NAME, "amount": AMOUNT}
        raise ValidationError(exc.message, {rename.get(k, f"pipeline.{k}"): v
                                            for k, v in exc.errors.items()}) from None
    return {"opportunity_id": opp.id}
