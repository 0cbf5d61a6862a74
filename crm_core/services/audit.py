"""Reading the audit log (``audit.read``): filters and keyset pages, newest first."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict
from sqlmodel import col, select

from crm_core.context import Ctx
from crm_core.models import AuditEntry
from crm_core.permissions.scope import require
from crm_core.services.base import Page, clamp_limit, decode_cursor, encode_cursor, parse


class AuditQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    actor: str | None = None  # login
    entity: str | None = None
    entity_id: int | None = None
    action: str | None = None  # exact, or a prefix ending with "." ("customer.")
    interface: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    cursor: str | None = None
    limit: int | None = None


def _day_start(d: date, tz: str) -> datetime:
    return datetime.combine(d, time.min, ZoneInfo(tz))


def list_audit(ctx: Ctx, query: AuditQuery | dict[str, Any] | None = None) -> Page[AuditEntry]:
    require(ctx.actor, "audit.read")
    q = parse(AuditQuery, query or {})
    limit = clamp_limit(q.limit)
    stmt = select(AuditEntry)
    if q.actor:
        stmt = stmt.where(col(AuditEntry.actor_login) == q.actor)
    if q.entity:
        stmt = stmt.where(col(AuditEntry.entity) == q.entity)
    if q.entity_id is not None:
        stmt = stmt.where(col(AuditEntry.entity_id) == q.entity_id)
    if q.action:
        if q.action.endswith("."):
            stmt = stmt.where(col(AuditEntry.action).startswith(q.action, autoescape=True))
        else:
            stmt = stmt.where(col(AuditEntry.action) == q.action)
    if q.interface:
        stmt = stmt.where(col(AuditEntry.interface) == q.interface)
    tz = ctx.actor.timezone
    if q.date_from:
        stmt = stmt.where(col(AuditEntry.at) >= _day_start(q.date_from, tz))
    if q.date_to:
        stmt = stmt.where(col(AuditEntry.at) < _day_start(q.date_to + timedelta(days=1), tz))
    if q.cursor:
        (last_id,) = decode_cursor(q.cursor, 1)
        if not isinstance(last_id, int):
            from crm_core.errors import ValidationError

            raise ValidationError("invalid cursor", {"cursor": ["not a cursor from a previous page"]})
        stmt = stmt.where(col(AuditEntry.id) < last_id)
    with ctx.reader() as s:
        rows = list(s.scalars(stmt.order_by(col(AuditEntry.id).desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor([rows[-1].id]) if more and rows else None, limit)
