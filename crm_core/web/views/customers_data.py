"""Read-only lookups the customer pages need beside the services: a page of customers' primary
contacts, owners' names, the owners a user may assign to, follow-ups due. Record data is read
through the same SQL scope helper as the services, and contacts are shown through the contact
service's reader, so phones stay masked for roles that may not see them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import col

from crm_core.context import Ctx
from crm_core.models import Contact, Customer, FollowUp, User
from crm_core.permissions.scope import scope_clause
from crm_core.schemas import ContactRead, FollowUpRead
from crm_core.services import contacts as contacts_svc
from crm_core.services import followups as followups_svc
from crm_core.services.users import list_teams, list_users


def primary_contacts(ctx: Ctx, customer_ids: Iterable[int]) -> dict[int, ContactRead]:
    """Each customer's primary contact (else its first) among the contacts the actor may read."""
    ids = sorted(set(customer_ids))
    if not ids or not ctx.actor.can("contacts.read"):
        return {}
    rank = func.row_number().over(partition_by=col(Contact.customer_id),
                                  order_by=(col(Contact.is_primary).desc(), col(Contact.id)))
    inner = (select(col(Contact.id).label("cid"), rank.label("rank"))
             .where(col(Contact.customer_id).in_(ids),
                    scope_clause(ctx.kernel, ctx.actor, "contact", "contacts.read"))
             .subquery())
    with ctx.reader() as s:
        rows = s.scalars(select(Contact).join(inner, inner.c.cid == Contact.id)
                         .where(inner.c.rank == 1))
        return {r.customer_id: contacts_svc.to_read(ctx, r) for r in rows}


def user_names(ctx: Ctx, user_ids: Iterable[int | None]) -> dict[int, str]:
    ids = sorted({i for i in user_ids if i is not None})
    if not ids:
        return {}
    with ctx.reader() as s:
        rows = s.execute(select(col(User.id), col(User.display_name), col(User.login))
                         .where(col(User.id).in_(ids)))
        return {uid: name or login for uid, name, login in rows}


@dataclass(frozen=True)
class Person:
    id: int
    name: str


def people_in_scope(ctx: Ctx, action: str) -> list[Person]:
    """The active users whose records ``action`` reaches for the actor: everyone with scope
    ``all``, the actor and the members of their teams with ``team``, else the actor alone.
    For ``customers.assign`` these are the owners the actor may assign to (the rule of
    ``assign_owner``); for ``customers.read``, the owners worth offering in a filter."""
    scope = ctx.actor.scope(action)
    if scope is None or ctx.actor.id is None:
        return []
    team_names = {t.name for t, _members in list_teams(ctx) if t.id in ctx.actor.team_ids}
    out = []
    for user, _roles, teams in list_users(ctx):
        if user.id is None or not user.is_active:
            continue
        if (scope == "all" or user.id == ctx.actor.id
                or (scope == "team" and team_names.intersection(teams))):
            out.append(Person(user.id, user.display_name or user.login))
    return out


@dataclass(frozen=True)
class DueFollowUp:
    followup: FollowUpRead
    customer_name: str
    customer_code: str
    overdue: bool


def due_followups(ctx: Ctx, today: date, limit: int = 8) -> tuple[list[DueFollowUp], int]:
    """Next steps due today or earlier on the actor's own customers, still open: no later
    follow-up has been logged on the customer since. Oldest due first; (rows, total)."""
    if ctx.actor.id is None or not ctx.actor.can("followups.read"):
        return [], 0
    later = aliased(FollowUp)
    at, later_at = col(FollowUp.occurred_at), col(later.occurred_at)
    newer = exists().where(
        col(later.customer_id) == col(FollowUp.customer_id),
        or_(later_at > at, and_(later_at == at, col(later.id) > col(FollowUp.id))))
    stmt = (select(FollowUp, col(Customer.name), col(Customer.code))
            .join(Customer, col(Customer.id) == FollowUp.customer_id)
            .where(col(Customer.owner_id) == ctx.actor.id,
                   col(FollowUp.next_step_due).is_not(None), col(FollowUp.next_step_due) <= today,
                   scope_clause(ctx.kernel, ctx.actor, "customer", "customers.read"),
                   scope_clause(ctx.kernel, ctx.actor, "followup", "followups.read"),
                   ~newer))
    with ctx.reader() as s:
        total = s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = s.execute(stmt.order_by(col(FollowUp.next_step_due), col(FollowUp.id)).limit(limit))
        out = [DueFollowUp(followups_svc.to_read(f), name, code,
                           f.next_step_due is not None and f.next_step_due < today)
               for f, name, code in rows]
    return out, total

