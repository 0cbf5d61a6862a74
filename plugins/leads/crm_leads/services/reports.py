"""Conversion rate and time to first contact by source, computed in SQL over the leads the
actor may read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Float, case, cast, func, select
from sqlmodel import col

from crm_core.context import Ctx
from crm_core.db import is_sqlite
from crm_core.permissions.scope import scope_clause
from crm_leads.models import Lead


@dataclass(frozen=True)
class SourceStats:
    source: str | None
    leads: int
    converted: int
    conversion_rate: float  # 0–1
    contacted: int
    avg_hours_to_first_contact: float | None


def by_source(ctx: Ctx, since: datetime | None = None, until: datetime | None = None) -> list[SourceStats]:
    with ctx.reader() as s:
        if is_sqlite(s):
            hours = (func.julianday(Lead.first_contacted_at) - func.julianday(Lead.created_at)) * 24.0
        else:
            hours = func.extract("epoch", col(Lead.first_contacted_at) - col(Lead.created_at)) / 3600.0
        converted = func.sum(case((col(Lead.status) == "converted", 1), else_=0))
        contacted = func.count(col(Lead.first_contacted_at))
        stmt = (select(col(Lead.source), func.count(), converted, contacted,
                       func.avg(cast(hours, Float)))
                .where(scope_clause(ctx.kernel, ctx.actor, "leads.lead", "leads.read"))
                .group_by(col(Lead.source)).order_by(func.count().desc(), col(Lead.source)))
        if since is not None:
            stmt = stmt.where(col(Lead.created_at) >= since)
        if until is not None:
            stmt = stmt.where(col(Lead.created_at) < until)
        out = []
        for source, n, conv, cont, avg in s.execute(stmt):
            out.append(SourceStats(source, int(n), int(conv or 0), (int(conv or 0) / n) if n else 0.0,
                                   int(cont), None if avg is None else round(float(avg), 2)))
        return out
