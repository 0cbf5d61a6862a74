"""``crm customers list``: customers as a given user may see them."""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy import select
from sqlmodel import col

from crm_core.cli.output import print_table, say
from crm_core.cli.state import CliState, pass_state
from crm_core.context import Ctx
from crm_core.models import Contact
from crm_core.models.customers import CUSTOMER_STATUSES
from crm_core.permissions.scope import scope_clause
from crm_core.services.base import MAX_LIMIT
from crm_core.services.contacts import to_read as contact_to_read
from crm_core.services.customers import count_customers, list_customers
from crm_core.services.users import actor_for, list_users


@click.group()
def customers() -> None:
    """Customers."""


def _primary_phones(ctx: Ctx, customer_ids: list[int]) -> dict[int, str | None]:
    """Primary contact phone per customer, masked unless ``ctx.actor`` may see phones."""
    if not customer_ids:
        return {}
    kernel = ctx.kernel
    with ctx.reader() as s:
        rows = s.scalars(
            select(Contact)
            .where(col(Contact.customer_id).in_(customer_ids), col(Contact.is_primary).is_(True),
                   scope_clause(kernel, ctx.actor, "contact", "contacts.read"))
            .order_by(col(Contact.id))
        )
        out: dict[int, str | None] = {}
        for row in rows:
            out.setdefault(row.customer_id, contact_to_read(ctx, row).phone)
    return out


@customers.command("list")
@click.option("--as", "login", default=None, metavar="LOGIN",
              help="List as this user sees it: their record scope and field masking "
                   "(default: the system, everything).")
@click.option("--q", default=None, help="Code, exact phone or email, or part of the name.")
@click.option("--status", type=click.Choice(CUSTOMER_STATUSES), default=None)
@click.option("--limit", type=click.IntRange(1, MAX_LIMIT), default=50, show_default=True)
@click.option("--cursor", default=None, help="Continue after a previous page.")
@pass_state
def list_cmd(state: CliState, login: str | None, q: str | None, status: str | None, limit: int,
             cursor: str | None) -> None:
    """One page of customers, newest first."""
    admin = state.ctx()
    ctx = admin.as_(actor_for(admin, login), "cli") if login else admin
    query: dict[str, Any] = {"q": q, "status": status, "limit": limit, "cursor": cursor}
    page = list_customers(ctx, query)
    total, exact = count_customers(ctx, {"q": q, "status": status})
    owners = {u.id: u.login for u, _r, _t in list_users(admin)}
    phones = _primary_phones(ctx, [c.id for c in page.items])
    rows = [[c.code, c.name, c.type, c.status, c.region or "", owners.get(c.owner_id, "")
             if c.owner_id else "", phones.get(c.id) or ""] for c in page.items]
    who = f"as {ctx.actor.login}" if login else "as the system"
    print_table(["code", "name", "type", "status", "region", "owner", "phone"], rows,
                empty=f"No customers visible {who}.")
    if page.items:
        say(f"{len(page.items)} shown of {total}{'' if exact else '+'} visible {who}")
    if page.next_cursor:
        say(f"Next page: --cursor {page.next_cursor}")
