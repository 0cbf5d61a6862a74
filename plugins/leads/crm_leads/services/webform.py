"""The public web form: tokens (admins), and a submission from anyone who has the link."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select, text
from sqlmodel import col

from crm_core.context import Ctx
from crm_core.db import utcnow
from crm_core.errors import CRMError, NotFound, ValidationError
from crm_core.permissions.actor import SYSTEM
from crm_core.permissions.scope import require
from crm_core.schemas import SOURCES
from crm_core.services.base import parse, record
from crm_leads.models import FormToken
from crm_leads.schemas import LeadCreate, LeadRead

HONEYPOT = "website_url"
_HIT = text(
    "INSERT INTO leads_form_hit (token_id, ip, hour_key, hits) VALUES (:t, :ip, :h, 1) "
    "ON CONFLICT (token_id, ip, hour_key) DO UPDATE SET hits = leads_form_hit.hits + 1 "
    "RETURNING hits")


class RateLimited(CRMError):
    type = "rate-limited"
    status = 429


class SpamSuspected(CRMError):
    """The honeypot field was filled: a bot. Nothing is stored."""

    type = "spam"
    status = 400


def list_tokens(ctx: Ctx) -> list[FormToken]:
    require(ctx.actor, "leads.manage_rules")
    with ctx.reader() as s:
        return list(s.scalars(select(FormToken).order_by(col(FormToken.id))))


def create_token(ctx: Ctx, label: str, source: str = "website", rate_limit: int = 5) -> FormToken:
    require(ctx.actor, "leads.manage_rules")
    label = (label or "").strip()
    errors: dict[str, list[str]] = {}
    if not label or len(label) > 120:
        errors["label"] = ["label is required"] if not label else ["at most 120 characters"]
    if source not in SOURCES:
        errors["source"] = [f"unknown source {source!r}; one of {', '.join(SOURCES)}"]
    if not 1 <= rate_limit <= 1000:
        errors["rate_limit"] = ["must be at least 1"] if rate_limit < 1 else ["must be at most 1000"]
    if errors:
        raise ValidationError("web form is not valid", errors)
    with ctx.uow() as s:
        row = FormToken(token=secrets.token_urlsafe(24), label=label, source=source,
                        rate_limit=rate_limit, created_by_id=ctx.actor.id)
        s.add(row)
        s.flush()
        record(ctx, s, action="lead_form.create", entity="leads.form_token", entity_id=row.id,
               changes={"label": [None, label], "source": [None, source]}, summary=label)
        return row


def set_token_active(ctx: Ctx, token_id: int, active: bool) -> None:
    require(ctx.actor, "leads.manage_rules")
    with ctx.uow() as s:
        row = s.get(FormToken, token_id)
        if row is None:
            raise NotFound(f"web form {token_id} not found")
        if row.active != active:
            row.active = active
            record(ctx, s, action="lead_form.update", entity="leads.form_token", entity_id=row.id,
                   changes={"active": [not active, active]}, summary=row.label)


def form_for(ctx: Ctx, token: str) -> FormToken:
    with ctx.reader() as s:
        row = s.scalar(select(FormToken).where(col(FormToken.token) == token))
    if row is None or not row.active:
        raise NotFound("no such form")
    return row


def submit(ctx: Ctx, token: str, ip: str, data: dict[str, Any]) -> LeadRead:
    """A visitor's submission: honeypot → validation → rate limit → the lead, created by the
    system actor and assigned by the rules. Nothing is stored when any check fails (the hit
    counter counts only accepted submissions)."""
    from crm_leads.services.leads import insert_lead, to_read

    form = form_for(ctx, token)
    if str(data.get(HONEYPOT) or "").strip():
        raise SpamSuspected("the form was not filled in by a person")
    fields = {k: data.get(k) for k in ("name", "company", "phone", "email", "region", "industry",
                                       "remark") if data.get(k) not in (None, "")}
    d = parse(LeadCreate, {**fields, "source": form.source})
    system = Ctx(ctx.kernel, SYSTEM, "system")
    with system.uow() as s:
        hits = s.execute(_HIT, {"t": form.id, "ip": ip[:64] or "?",
                                "h": utcnow().strftime("%Y%m%d%H")}).scalar_one()
        if hits > form.rate_limit:
            raise RateLimited("too many submissions from this address; try again later")
        row = insert_lead(system, s, d)
        return to_read(system, row)
