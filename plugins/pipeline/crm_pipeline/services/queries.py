"""Reading many opportunities: the keyset list, the board, the customer panel."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Select, select, tuple_
from sqlmodel import col

from crm_core.context import Ctx
from crm_core.db import contains_ci
from crm_core.errors import ValidationError
from crm_core.models import Customer, TeamMember, User
from crm_core.models.base import id_col
from crm_core.permissions.scope import scope_clause
from crm_core.services.base import Page, clamp_limit, decode_cursor, encode_cursor, parse
from crm_pipeline.models import Opportunity, Pipeline, Stage
from crm_pipeline.schemas import OpportunityQuery, OpportunityRead
from crm_pipeline.services.common import ENTITY, default_pipeline, stages_of, to_read

SORTS = ("id", "amount", "name", "created_at", "updated_at")
_BAD_CURSOR = {"cursor": ["not a cursor from a previous page"]}


def filtered(ctx: Ctx, query: OpportunityQuery) -> Select[Any]:
    Opp = Opportunity
    stmt = select(Opp).where(scope_clause(ctx.kernel, ctx.actor, ENTITY, "pipeline.read"))
    if query.q:
        stmt = stmt.where(contains_ci(Opp.name, query.q))
    if query.status:
        stmt = stmt.where(col(Opp.status) == query.status)
    if query.pipeline:
        stmt = stmt.where(col(Opp.pipeline_id).in_(
            select(col(Pipeline.id)).where(col(Pipeline.key) == query.pipeline)))
    if query.stage:
        stmt = stmt.where(col(Opp.stage_id).in_(select(col(Stage.id)).where(col(Stage.key) == query.stage)))
    if query.owner:
        if query.owner == "me":
            stmt = stmt.where(col(Opp.owner_id) == ctx.actor.id)
        elif query.owner.isdigit():
            stmt = stmt.where(col(Opp.owner_id) == int(query.owner))
        else:
            raise ValidationError("invalid filter", {"owner": ["'me' or a user id"]})
    if query.team is not None:
        stmt = stmt.where(col(Opp.owner_id).in_(
            select(col(TeamMember.user_id)).where(col(TeamMember.team_id) == query.team)))
    if query.customer_id is not None:
        stmt = stmt.where(col(Opp.customer_id) == query.customer_id)
    if query.approval:
        stmt = stmt.where(col(Opp.approval_status) == query.approval)
    if query.close_from:
        stmt = stmt.where(col(Opp.expected_close) >= query.close_from)
    if query.close_to:
        stmt = stmt.where(col(Opp.expected_close) <= query.close_to)
    if query.min_amount is not None:
        stmt = stmt.where(col(Opp.amount) >= query.min_amount)
    return stmt


def _position(name: str, cursor: str) -> tuple[Any, int]:
    if name == "id":
        (last_id,) = decode_cursor(cursor, 1)
        last: Any = None
    else:
        last, last_id = decode_cursor(cursor, 2)
    try:
        if not isinstance(last_id, int) or isinstance(last_id, bool):
            raise TypeError
        if name == "amount":
            last = Decimal(str(last))
        elif name in ("created_at", "updated_at"):
            last = datetime.fromisoformat(last)
        elif name == "name" and not isinstance(last, str):
            raise TypeError
    except (TypeError, ValueError, InvalidOperation):
        raise ValidationError("invalid cursor", _BAD_CURSOR) from None
    return last, last_id


def list_opportunities(
    ctx: Ctx, query: OpportunityQuery | dict[str, Any] | None = None
) -> Page[OpportunityRead]:
    """One keyset page of the opportunities the actor may read (allow-listed filters/sorts)."""
    q = parse(OpportunityQuery, query or {})
    limit = clamp_limit(q.limit)
    desc = q.sort.startswith("-")
    name = q.sort.removeprefix("-")
    if name not in SORTS:
        raise ValidationError("invalid sort", {"sort": [f"one of {', '.join(SORTS)} (prefix - "
                                                        "for descending)"]})
    sort_col = getattr(Opportunity, name)
    id_ = col(Opportunity.id)
    with ctx.reader() as s:
        stmt = filtered(ctx, q)
        if q.cursor:
            last, last_id = _position(name, q.cursor)
            if name == "id":
                stmt = stmt.where(id_ < last_id if desc else id_ > last_id)
            else:
                key = tuple_(sort_col, id_)
                stmt = stmt.where(key < (last, last_id) if desc else key > (last, last_id))
        if name == "id":
            order = [id_.desc() if desc else id_.asc()]
        else:
            order = [sort_col.desc(), id_.desc()] if desc else [sort_col.asc(), id_.asc()]
        rows = list(s.scalars(stmt.order_by(*order).limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
        items = [to_read(s, r) for r in rows]
    cursor = None
    if more and rows:
        last_row = rows[-1]
        cursor = encode_cursor([last_row.id] if name == "id" else [getattr(last_row, name), last_row.id])
    return Page(items, cursor, limit)


def board(ctx: Ctx, pipeline_key: str | None = None, owner: str | None = None,
          per_stage: int = 50) -> dict[str, Any]:
    """The kanban: the pipeline's active stages, each with its newest open (or, for the won and
    lost columns, recently closed) opportunities the actor may read, and their count/total."""
    from sqlalchemy import BigInteger, func, type_coerce

    from crm_pipeline.models import cents

    with ctx.reader() as s:
        if pipeline_key:
            p = s.scalars(select(Pipeline).where(col(Pipeline.key) == pipeline_key)).first()
            if p is None:
                raise ValidationError("unknown pipeline", {"pipeline": [f"no pipeline {pipeline_key!r}"]})
        else:
            p = default_pipeline(s)
        q = OpportunityQuery(owner=owner) if owner else OpportunityQuery()
        base = filtered(ctx, q).where(col(Opportunity.pipeline_id) == p.id)
        totals = {sid: (n, cents(t)) for sid, n, t in s.execute(
            base.with_only_columns(col(Opportunity.stage_id), func.count(),
                                   func.sum(type_coerce(col(Opportunity.amount), BigInteger)))
            .group_by(col(Opportunity.stage_id)))}
        columns = []
        for st in stages_of(s, p.id or 0, active_only=True):
            rows = list(s.scalars(base.where(col(Opportunity.stage_id) == st.id)
                                  .order_by(col(Opportunity.updated_at).desc(), col(Opportunity.id).desc())
                                  .limit(per_stage)))
            n, total = totals.get(st.id, (0, Decimal("0.00")))
            columns.append({"stage": st, "items": [to_read(s, r) for r in rows], "count": n,
                            "total": total})
        customer_ids = {o.customer_id for c in columns for o in c["items"]}
        customers = dict(s.execute(select(col(Customer.id), col(Customer.name))
                                   .where(col(Customer.id).in_(customer_ids), scope_clause(
                                       ctx.kernel, ctx.actor, "customer", "customers.read")))
                             .tuples().all()) \
            if customer_ids else {}
        owner_ids = {o.owner_id for c in columns for o in c["items"] if o.owner_id is not None}
        names = {uid: name or login for uid, name, login in s.execute(
            select(col(User.id), col(User.display_name), col(User.login))
            .where(col(User.id).in_(owner_ids)))} if owner_ids else {}
        return {"pipeline": p, "columns": columns, "customers": customers, "users": names}


def user_names(ctx: Ctx, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    with ctx.reader() as s:
        return {uid: name or login for uid, name, login in s.execute(
            select(col(User.id), col(User.display_name), col(User.login))
            .where(col(User.id).in_(wanted)))}


def customer_names(ctx: Ctx, ids: set[int]) -> dict[int, str]:
    """Names of customers the actor may read (others are left out)."""
    if not ids:
        return {}
    with ctx.reader() as s:
        return dict(s.execute(select(id_col(Customer), col(Customer.name)).where(
            col(Customer.id).in_(ids),
            scope_clause(ctx.kernel, ctx.actor, "customer", "customers.read"))).tuples().all())
