"""Forecast figures, aggregated in SQL: by month (of the expected close date for open
opportunities, of the close date for won ones), by owner, by team; and the dashboard numbers.

Amounts are summed as whole cents (exact on both engines); the weighted forecast is
Σ amount × probability / 100 over open opportunities. Separate rows per currency."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import BigInteger, Integer, and_, case, cast, extract, func, select, type_coerce
from sqlmodel import col

from crm_core.context import Ctx
from crm_core.errors import ValidationError
from crm_core.models import Team, TeamMember, User
from crm_core.permissions.scope import scope_clause
from crm_pipeline.models import CENT, Opportunity, cents
from crm_pipeline.services.common import ENTITY

GROUPS = ("month", "owner", "team")


@dataclass
class ForecastRow:
    key: str  # "2026-11", a user id, a team id, or "" (no date / no owner / no team)
    label: str
    currency: str
    open_count: int
    open_amount: Decimal
    weighted: Decimal
    won_count: int
    won_amount: Decimal


def _weighted(raw: Any) -> Decimal:
    """Σ cents × percent → yuan, rounded half up (四舍五入) once, after the exact sum."""
    return (Decimal(int(raw or 0)) / 10000).quantize(CENT, ROUND_HALF_UP)


def forecast(ctx: Ctx, group: str = "month", date_from: date | None = None,
             date_to: date | None = None, pipeline_id: int | None = None) -> list[ForecastRow]:
    if group not in GROUPS:
        raise ValidationError("invalid group", {"group": [f"one of {', '.join(GROUPS)}"]})
    if date_from and date_to and date_from > date_to:
        raise ValidationError("invalid period", {"to": ["must not be before the start"]})
    Opp = Opportunity
    is_open = col(Opp.status) == "open"
    is_won = col(Opp.status) == "won"
    when = case((is_open, col(Opp.expected_close)), else_=col(Opp.closed_on))
    raw = type_coerce(col(Opp.amount), BigInteger)
    measures = [
        func.sum(case((is_open, 1), else_=0)),
        func.sum(case((is_open, raw), else_=0)),
        func.sum(case((is_open, raw * col(Opp.probability)), else_=0)),
        func.sum(case((is_won, 1), else_=0)),
        func.sum(case((is_won, raw), else_=0)),
    ]
    conds = [col(Opp.status).in_(("open", "won")),
             scope_clause(ctx.kernel, ctx.actor, ENTITY, "pipeline.read")]
    if date_from:
        conds.append(when >= date_from)
    if date_to:
        conds.append(when <= date_to)
    if pipeline_id is not None:
        conds.append(col(Opp.pipeline_id) == pipeline_id)
    with ctx.reader() as s:
        if group == "month":
            y = cast(extract("year", when), Integer)
            m = cast(extract("month", when), Integer)
            stmt = (select(y, m, col(Opp.currency), *measures).where(*conds)
                    .group_by(y, m, col(Opp.currency)).order_by(y, m, col(Opp.currency)))
            out = []
            for yy, mm, cur, *vals in s.execute(stmt):
                key = f"{int(yy):04d}-{int(mm):02d}" if yy is not None else ""
                out.append(_row(key, key, cur, vals))
            return out
        if group == "owner":
            stmt = (select(col(Opp.owner_id), col(Opp.currency), *measures).where(*conds)
                    .group_by(col(Opp.owner_id), col(Opp.currency)))
            rows = list(s.execute(stmt))
            ids = [r[0] for r in rows if r[0] is not None]
            names = {uid: n or lg for uid, n, lg in s.execute(
                select(col(User.id), col(User.display_name), col(User.login))
                .where(col(User.id).in_(ids)))} if ids else {}
            out = [_row(str(oid or ""), names.get(oid, "") if oid else "", cur, vals)
                   for oid, cur, *vals in rows]
            return sorted(out, key=lambda r: (-r.weighted, r.label, r.currency))
        # team: an owner in two teams counts in both
        stmt = (select(col(Team.id), col(Team.name), col(Opp.currency), *measures)
                .select_from(Opp)
                .join(TeamMember, col(TeamMember.user_id) == col(Opp.owner_id))
                .join(Team, col(Team.id) == col(TeamMember.team_id))
                .where(*conds).group_by(col(Team.id), col(Team.name), col(Opp.currency))
                .order_by(col(Team.name), col(Opp.currency)))
        return [_row(str(tid), name, cur, vals) for tid, name, cur, *vals in s.execute(stmt)]


def _row(key: str, label: str, currency: str, vals: list[Any]) -> ForecastRow:
    oc, oa, w, wc, wa = vals
    return ForecastRow(key, label, currency, int(oc or 0), cents(oa), _weighted(w), int(wc or 0),
                       cents(wa))


def dashboard_figures(ctx: Ctx, today: date) -> dict[str, Any]:
    """This month's won amount and the weighted forecast (open opportunities expected to close
    this month, and the whole open pipeline), per currency, in the actor's scope."""
    Opp = Opportunity
    start = today.replace(day=1)
    end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    raw = type_coerce(col(Opp.amount), BigInteger)
    is_open = col(Opp.status) == "open"
    this_month_open = and_(is_open, col(Opp.expected_close) >= start, col(Opp.expected_close) < end)
    won_now = and_(col(Opp.status) == "won", col(Opp.closed_on) >= start, col(Opp.closed_on) < end)
    stmt = (select(col(Opp.currency),
                   func.sum(case((won_now, raw), else_=0)),
                   func.sum(case((won_now, 1), else_=0)),
                   func.sum(case((this_month_open, raw * col(Opp.probability)), else_=0)),
                   func.sum(case((is_open, raw * col(Opp.probability)), else_=0)),
                   func.sum(case((is_open, 1), else_=0)))
            .where(scope_clause(ctx.kernel, ctx.actor, ENTITY, "pipeline.read"),
                   col(Opp.status).in_(("open", "won")))
            .group_by(col(Opp.currency)).order_by(col(Opp.currency)))
    with ctx.reader() as s:
        rows = [{"currency": cur, "won_amount": cents(wa), "won_count": int(wc or 0),
                 "weighted_month": _weighted(wm), "weighted_all": _weighted(wall),
                 "open_count": int(oc or 0)}
                for cur, wa, wc, wm, wall, oc in s.execute(stmt)]
    if not any(r["currency"] == "CNY" for r in rows):
        rows.insert(0, {"currency": "CNY", "won_amount": Decimal("0.00"), "won_count": 0,
                        "weighted_month": Decimal("0.00"), "weighted_all": Decimal("0.00"),
                        "open_count": 0})
    return {"month": start, "rows": rows}
