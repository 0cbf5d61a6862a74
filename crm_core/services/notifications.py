"""In-app notifications (站内通知) and their email copies — a kernel service every plugin uses.

``notify(ctx, user_id, kind, title, body, url, dedup_key, email=True)`` stores one notification
for one user **exactly once per (user, dedup_key)**: a unique constraint and an insert that does
nothing on conflict, so a job that runs twice, or two workers, never notify twice. It joins the
caller's transaction (``ctx.uow()``).

With ``email=True`` (and email configured, and the user having an address) the same transaction
adds a due-work row (:mod:`crm_core.duework`, kind ``core.notification_email``); the kernel job
``core.notification_email`` claims those rows atomically after commit and sends each through
:mod:`crm_core.mail` — so each notification is emailed at most once even when the job fires
twice or two workers run, and never from inside a write transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select, update
from sqlmodel import col

from crm_core import mail
from crm_core.context import Ctx
from crm_core.db import dialect_insert, rowcount, utcnow
from crm_core.duework import run_due, schedule_due
from crm_core.errors import NotFound, ValidationError
from crm_core.models import DueWork, Notification, User
from crm_core.models.base import table_of
from crm_core.services.base import Page, clamp_limit, decode_cursor, encode_cursor

if TYPE_CHECKING:
    from crm_core.kernel import Kernel

EMAIL_KIND = "core.notification_email"
COUNT_CAP = 100  # the badge shows "99+": never count a huge backlog


class NotificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    kind: str
    title: str
    body: str
    url: str
    read_at: datetime | None = None
    emailed_at: datetime | None = None


def _url_ok(url: str) -> bool:
    # in-app links only: a notification must not become an open redirect or a javascript: link
    return not url or (url.startswith("/") and not url.startswith("//") and "\\" not in url
                       and len(url) <= 500)


def notify(ctx: Ctx, user_id: int, kind: str, title: str, body: str = "", url: str = "",
           dedup_key: str = "", email: bool = True) -> NotificationRead:
    """Notify ``user_id``; returns the stored notification (the earlier one when ``dedup_key``
    was already used for this user: nothing new is stored or emailed)."""
    errors: dict[str, list[str]] = {}
    if not kind or len(kind) > 64:
        errors["kind"] = ["1 to 64 characters"]
    if not title.strip():
        errors["title"] = ["cannot be empty"]
    if not dedup_key or len(dedup_key) > 200:
        errors["dedup_key"] = ["1 to 200 characters"]
    url = (url or "").strip()
    if not _url_ok(url):
        errors["url"] = ["must be a path on this site"]
    if errors:
        raise ValidationError("invalid notification", errors)
    table = table_of(Notification)
    with ctx.uow() as s:
        address = s.scalar(select(col(User.email)).where(col(User.id) == user_id))
        if address is None and s.get(User, user_id) is None:
            raise NotFound(f"user {user_id} not found")
        stmt = dialect_insert(s, table).values(
            created_at=utcnow(), user_id=user_id, kind=kind, title=title.strip()[:200],
            body=(body or "")[:2000], url=url, dedup_key=dedup_key,
        ).on_conflict_do_nothing(index_elements=["user_id", "dedup_key"]).returning(table.c.id)
        new_id = s.execute(stmt).scalar()
        if new_id is not None and email and address and mail.enabled(ctx.kernel.settings):
            schedule_due(s, EMAIL_KIND, f"notification:{new_id}", utcnow(), {"id": new_id})
        row = s.scalar(select(Notification).where(col(Notification.user_id) == user_id,
                                                  col(Notification.dedup_key) == dedup_key))
        assert row is not None
        return NotificationRead.model_validate(row)


@dataclass(frozen=True)
class Note:
    """One notification for :func:`notify_many` (the arguments of :func:`notify`)."""

    user_id: int
    kind: str
    title: str
    body: str = ""
    url: str = ""
    dedup_key: str = ""
    email: bool = True


def notify_many(ctx: Ctx, notes: list[Note], chunk: int = 500) -> int:
    """Store many notifications at once (a rule's sweep): the same exactly-once rule per
    ``(user_id, dedup_key)`` and the same email due work as :func:`notify`, in multi-row
    statements. Returns how many were new. Bad input refuses the whole batch."""
    errors: dict[str, list[str]] = {}
    for i, n in enumerate(notes):
        if not n.kind or len(n.kind) > 64 or not n.title.strip() or not n.dedup_key \
                or len(n.dedup_key) > 200 or not _url_ok(n.url):
            errors[str(i)] = ["needs kind, title, dedup_key (1-200) and a path on this site as url"]
    if errors:
        raise ValidationError("invalid notifications", errors)
    table, due = table_of(Notification), table_of(DueWork)
    mail_on = mail.enabled(ctx.kernel.settings)
    new = 0
    with ctx.uow() as s:
        ids = {n.user_id for n in notes}
        addresses = dict(s.execute(select(col(User.id), col(User.email))
                                   .where(col(User.id).in_(ids))).tuples().all())
        missing = ids - set(addresses)
        if missing:
            raise NotFound(f"user {min(missing)} not found")
        wants = {(n.user_id, n.dedup_key) for n in notes if n.email}
        for start in range(0, len(notes), chunk):
            part = notes[start:start + chunk]
            now = utcnow()
            rows = [{"created_at": now, "user_id": n.user_id, "kind": n.kind,
                     "title": n.title.strip()[:200], "body": n.body[:2000], "url": n.url.strip(),
                     "dedup_key": n.dedup_key} for n in part]
            made = s.execute(dialect_insert(s, table).values(rows)
                             .on_conflict_do_nothing(index_elements=["user_id", "dedup_key"])
                             .returning(table.c.id, table.c.user_id, table.c.dedup_key)).all()
            new += len(made)
            work = [{"kind": EMAIL_KIND, "key": f"notification:{nid}", "due_at": now,
                     "payload": {"id": nid}, "status": "pending", "attempts": 0}
                    for nid, uid, key in made
                    if mail_on and addresses.get(uid) and (uid, key) in wants]
            if work:
                s.execute(dialect_insert(s, due).values(work)
                          .on_conflict_do_nothing(index_elements=["kind", "key"]))
    return new


def unread_count(ctx: Ctx, cap: int = COUNT_CAP) -> int:
    """The actor's unread notifications, counted up to ``cap``."""
    if ctx.actor.id is None:
        return 0
    with ctx.reader() as s:
        inner = (select(col(Notification.id))
                 .where(col(Notification.user_id) == ctx.actor.id, col(Notification.read_at).is_(None))
                 .limit(cap).subquery())
        return int(s.scalar(select(func.count()).select_from(inner)) or 0)


def list_notifications(ctx: Ctx, cursor: str | None = None, limit: int | None = None,
                       unread_only: bool = False) -> Page[NotificationRead]:
    """The actor's notifications, newest first, keyset-paged by id."""
    limit = clamp_limit(limit, 30)
    if ctx.actor.id is None:
        return Page([], None, limit)
    stmt = select(Notification).where(col(Notification.user_id) == ctx.actor.id)
    if unread_only:
        stmt = stmt.where(col(Notification.read_at).is_(None))
    if cursor:
        (last,) = decode_cursor(cursor, 1)
        if not isinstance(last, int) or isinstance(last, bool):
            raise ValidationError("invalid cursor", {"cursor": ["not a cursor from a previous page"]})
        stmt = stmt.where(col(Notification.id) < last)
    with ctx.reader() as s:
        rows = list(s.scalars(stmt.order_by(col(Notification.id).desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor([rows[-1].id]) if more and rows else None
    return Page([NotificationRead.model_validate(r) for r in rows], nxt, limit)


def mark_read(ctx: Ctx, notification_id: int) -> NotificationRead:
    """Mark one of the actor's notifications read (someone else's is 'not found')."""
    with ctx.uow() as s:
        row = s.scalar(select(Notification).where(col(Notification.id) == notification_id,
                                                  col(Notification.user_id) == ctx.actor.id))
        if row is None or ctx.actor.id is None:
            raise NotFound(f"notification {notification_id} not found")
        if row.read_at is None:
            row.read_at = utcnow()
            s.flush()
        return NotificationRead.model_validate(row)


def mark_all_read(ctx: Ctx) -> int:
    """Mark every unread notification of the actor read; returns how many."""
    if ctx.actor.id is None:
        return 0
    with ctx.uow() as s:
        return rowcount(s.execute(
            update(Notification)
            .where(col(Notification.user_id) == ctx.actor.id, col(Notification.read_at).is_(None))
            .values(read_at=utcnow())))


# --- email delivery (after commit, from the job) -------------------------------------------------
def _email_text(n: Notification, base_url: str) -> str:
    link = f"\n\n{base_url.rstrip('/')}{n.url}" if n.url and base_url else (f"\n\n{n.url}" if n.url else "")
    return f"{n.body or n.title}{link}\n"


def _send_one(kernel: Kernel, row: DueWork, base_url: str) -> None:
    nid = int((row.payload or {}).get("id", 0))
    with kernel.new_session() as s, s.begin():
        n = s.get(Notification, nid)
        address = s.scalar(select(col(User.email)).where(col(User.id) == n.user_id)) if n else None
    if n is None or not address or n.emailed_at is not None:
        return  # gone, no address any more, or already sent: nothing to do
    mail.send(kernel.settings, address, n.title, _email_text(n, base_url))
    with kernel.new_session(write=True) as s, s.begin():
        s.execute(update(Notification).where(col(Notification.id) == nid)
                  .values(emailed_at=datetime.now(UTC)))


def deliver_emails(kernel: Kernel, limit: int = 100, base_url: str | None = None) -> int:
    """Send the pending notification emails (claimed atomically); returns how many were handled.
    A failed send is retried later (5 minutes, up to 5 attempts)."""
    if not mail.enabled(kernel.settings):
        return 0
    base = kernel.settings.mail_base_url if base_url is None else base_url
    return run_due(kernel, EMAIL_KIND, lambda row: _send_one(kernel, row, base), limit=limit)


def pending_emails(kernel: Kernel) -> list[dict[str, Any]]:
    """Email due-work rows not yet done (for the admin and tests)."""
    with kernel.new_session() as s, s.begin():
        rows = s.scalars(select(DueWork).where(col(DueWork.kind) == EMAIL_KIND,
                                               col(DueWork.status) != "done"))
        return [{"key": r.key, "status": r.status, "attempts": r.attempts} for r in rows]
