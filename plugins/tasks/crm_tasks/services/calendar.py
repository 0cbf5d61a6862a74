"""Per-user iCalendar (RFC 5545) feed behind a secret URL: ``/tasks/feed/<user>-<secret>.ics``.
Only the SHA-256 of the secret is stored; regenerating replaces it (the old URL stops working)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, timedelta
from typing import TYPE_CHECKING

from icalendar import Calendar, Event
from sqlalchemy import or_, select
from sqlmodel import col

from crm_core.context import Ctx
from crm_core.db import utcnow
from crm_core.errors import ValidationError
from crm_tasks.models import CalendarFeed, Task

if TYPE_CHECKING:
    from crm_core.kernel import Kernel

MAX_EVENTS = 1000


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def has_feed(ctx: Ctx) -> bool:
    with ctx.reader() as s:
        return ctx.actor.id is not None and s.get(CalendarFeed, ctx.actor.id) is not None


def regenerate_feed(ctx: Ctx) -> str:
    """A new secret token for the actor's feed (shown once); the previous one stops working."""
    if ctx.actor.id is None:
        raise ValidationError("invalid request", {"user": ["a user account is needed"]})
    secret = secrets.token_urlsafe(24)
    with ctx.uow() as s:
        row = s.get(CalendarFeed, ctx.actor.id)
        if row is None:
            s.add(CalendarFeed(user_id=ctx.actor.id, token_hash=_hash(secret)))
        else:
            row.token_hash = _hash(secret)
            row.updated_at = utcnow()
    return f"{ctx.actor.id}-{secret}"


def user_for_token(kernel: Kernel, token: str) -> int | None:
    uid, _, secret = token.partition("-")
    if not uid.isdigit() or not secret or len(token) > 100:
        return None
    with kernel.new_session() as s, s.begin():
        row = s.get(CalendarFeed, int(uid))
        if row is None or not hmac.compare_digest(row.token_hash, _hash(secret)):
            return None
        return row.user_id


def feed_ics(kernel: Kernel, user_id: int, base_url: str = "") -> bytes:
    """Open tasks and those done in the last 30 days, as VEVENTs of 30 minutes."""
    since = utcnow() - timedelta(days=30)
    with kernel.new_session() as s, s.begin():
        rows = list(s.scalars(
            select(Task).where(col(Task.assignee_id) == user_id,
                               or_(col(Task.done_at).is_(None), col(Task.done_at) >= since))
            .order_by(col(Task.due_at).desc()).limit(MAX_EVENTS)))
    cal = Calendar()
    cal.add("prodid", "-//Mosaic CRM//tasks//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "Mosaic CRM")
    for t in rows:
        start = t.due_at if t.due_at.tzinfo else t.due_at.replace(tzinfo=UTC)
        ev = Event()
        ev.add("uid", f"task-{t.id}@mosaic-crm")
        ev.add("dtstamp", (t.updated_at if t.updated_at.tzinfo else t.updated_at.replace(tzinfo=UTC)))
        ev.add("dtstart", start)
        ev.add("dtend", start + timedelta(minutes=30))
        ev.add("summary", ("✓ " if t.done_at else "") + t.title)
        if t.notes:
            ev.add("description", t.notes)
        if base_url:
            ev.add("url", f"{base_url.rstrip('/')}/tasks/#task-{t.id}")
        cal.add_component(ev)
    return cal.to_ical()
