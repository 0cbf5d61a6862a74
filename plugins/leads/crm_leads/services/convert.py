"""Lead → customer (+ primary contact) and whatever glue plugins add, in ONE transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import col

from crm_core.context import Ctx
from crm_core.db import utcnow
from crm_core.declarations import CustomerMatch
from crm_core.errors import ValidationError
from crm_core.models import Contact
from crm_core.permissions.scope import fetch_in_scope, require
from crm_core.services.base import bump, parse, record
from crm_core.services.customers import create_customer, find_matches, get_customer
from crm_leads.hookspecs import ConversionField
from crm_leads.models import Lead
from crm_leads.schemas import ConvertIn, ConvertResult, LeadRead
from crm_leads.services.leads import ENTITY, to_read


def _lead_row(ctx: Ctx, s: Any, lead_id: int, for_update: bool = False) -> Lead:
    row: Lead = fetch_in_scope(ctx.kernel, s, ctx.actor, ENTITY, lead_id, "leads.convert",
                               read_action="leads.read", for_update=for_update)
    return row


def conversion_matches(ctx: Ctx, lead_id: int) -> list[CustomerMatch]:
    """Existing customers that may be this lead (kernel hook ``find_customer_matches``: the
    kernel answers exact phone/email, a dedup plugin may add fuzzy matches)."""
    with ctx.reader() as s:
        row = _lead_row(ctx, s, lead_id)
        name, phone, email = row.company or row.name, row.phone, row.email
    return find_matches(ctx, name=name, phone=phone, email=email)


def conversion_fields(ctx: Ctx, lead: LeadRead) -> list[ConversionField]:
    fields: list[ConversionField] = []
    for result in ctx.kernel.host.hook_caller("lead_conversion_fields")(
            kernel=ctx.kernel, ctx=ctx, lead=lead):
        fields.extend(result or [])
    return fields


def convert_lead(ctx: Ctx, lead_id: int, data: ConvertIn | dict[str, Any]) -> ConvertResult:
    """Convert a lead (``leads.convert``): link it to an existing customer the actor may read,
    or create the customer with the lead as its primary contact; then every enabled glue plugin
    runs ``on_lead_converting`` in the same transaction. Any error rolls everything back."""
    d = parse(ConvertIn, data)
    require(ctx.actor, "leads.convert")
    with ctx.uow() as s:
        row = _lead_row(ctx, s, lead_id, for_update=True)
        if row.status == "converted":
            raise ValidationError("lead already converted",
                                  {"status": ["this lead is already converted"]})
        if row.status == "disqualified":
            raise ValidationError("lead is disqualified",
                                  {"status": ["a disqualified lead can't be converted"]})
        before = to_read(ctx, row)
        contact_id: int | None = None
        if d.customer_id is not None:
            customer_id = get_customer(ctx, d.customer_id).id  # in the actor's scope, else 404
            created = False
        else:
            contact: dict[str, Any] = {"name": row.name, "is_primary": True}
            if row.phone:
                contact["phone"] = row.phone
            if row.email:
                contact["email"] = row.email
            customer = create_customer(ctx, {
                "name": d.customer_name or row.company or row.name,
                "type": "enterprise" if row.company else "individual",
                "industry": row.industry, "source": row.source, "region": row.region,
                "contacts": [contact],
            })
            customer_id, created = customer.id, True
            contact_id = s.scalar(select(col(Contact.id)).where(
                col(Contact.customer_id) == customer_id, col(Contact.is_primary)))
        extra: dict[str, Any] = {}
        for result in ctx.kernel.host.hook_caller("on_lead_converting")(
                kernel=ctx.kernel, ctx=ctx, lead=before, customer_id=customer_id,
                options=dict(d.options)):
            extra.update(result or {})
        now = utcnow()
        row.status = "converted"
        row.converted_at = now
        row.converted_customer_id = customer_id
        if row.first_contacted_at is None:
            row.first_contacted_at = now
        bump(row)
        record(ctx, s, action="lead.convert", entity=ENTITY, entity_id=row.id,
               changes={"status": [before.status, "converted"],
                        "converted_customer_id": [None, customer_id]},
               summary=f"{row.name} → customer {customer_id}", event="lead.converted",
               payload={"id": row.id, "owner_id": row.owner_id, "customer_id": customer_id,
                        "created_customer": created, "source": row.source, **extra})
        return ConvertResult(lead_id=row.id or lead_id, customer_id=customer_id,
                             contact_id=contact_id, created_customer=created, extra=extra)
