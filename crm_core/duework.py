"""Due work stored as rows (reminders, SLA timers…) and claimed atomically.

A plugin writes a row with :func:`schedule_due` in the same transaction as the change that makes
the work due, keyed by something stable (``kind="tasks.reminder"``, ``key="task:42:2024-05-01"``)
so scheduling twice is harmless. Its job then claims what is due with :func:`claim_due` and marks
each row with :func:`complete_due` or :func:`fail_due` (or lets :func:`run_due` do all three).

A row is claimed by exactly one worker: the claim is ``UPDATE … WHERE id = :id AND status =
'pending'`` and only a row count of 1 makes it ours (on PostgreSQL the candidates are also read
``FOR UPDATE SKIP LOCKED`` so concurrent workers do not queue on each other). A job that fires
twice therefore does the work once. A worker that dies leaves its rows ``claimed``;
:func:`release_stale` (the ``core.due_work_release_stale`` job) puts them back to ``pending``.

Statuses: ``pending`` → ``claimed`` → ``done`` | ``failed`` (given up), or back to ``pending``
with a later ``due_at`` on a retry. ``attempts`` counts claims. Times are timezone-aware
(UTC when read back); a naive time is refused.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlmodel import col

from crm_core.asyncutil import resolve
from crm_core.db import rowcount, utcnow
from crm_core.models import DueWork
from crm_core.models.base import table_of

if TYPE_CHECKING:
    from crm_core.kernel import Kernel

log = logging.getLogger("crm.duework")

STALE_AFTER = timedelta(minutes=10)
RETRY_AFTER = timedelta(minutes=5)
MAX_ATTEMPTS = 5


def default_worker_id() -> str:
    """``host:pid:thread`` — unique among live workers."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:120]


def _utc(value: datetime) -> datetime:
    if value.utcoffset() is None:
        raise ValueError("due-work times must be timezone-aware (e.g. crm_core.db.utcnow())")
    return value.astimezone(UTC)


def schedule_due(
    session: Session,
    kind: str,
    key: str,
    due_at: datetime,
    payload: dict[str, Any] | None = None,
) -> bool:
    """Add a due row in the caller's transaction; ``False`` (and nothing changed) if a row with
    this ``(kind, key)`` already exists, whatever its status."""
    values = {
        "kind": kind, "key": key, "due_at": _utc(due_at), "payload": payload or {},
        "status": "pending", "attempts": 0,
    }
    table = table_of(DueWork)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(table).values(**values)
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).values(**values)
    else:  # pragma: no cover - the kernel supports SQLite and PostgreSQL only
        raise NotImplementedError(f"schedule_due does not support {dialect}")
    stmt = stmt.on_conflict_do_nothing(index_elements=["kind", "key"]).returning(table.c.id)
    return session.execute(stmt).first() is not None


def claim_due(
    kernel: Kernel,
    kind: str,
    now: datetime | None = None,
    limit: int = 100,
    worker_id: str | None = None,
) -> list[DueWork]:
    """Claim up to ``limit`` pending rows of ``kind`` due at ``now`` (default: now), oldest
    first. Every returned row is claimed by this call only; concurrent callers get disjoint
    sets. The rows are detached copies with ``status == "claimed"``."""
    now = _utc(now) if now is not None else utcnow()
    worker_id = (worker_id or default_worker_id())[:120]
    with kernel.new_session(write=True) as s, s.begin():
        query = (
            select(col(DueWork.id))
            .where(col(DueWork.kind) == kind, col(DueWork.status) == "pending",
                   col(DueWork.due_at) <= now)
            .order_by(col(DueWork.due_at), col(DueWork.id))
            .limit(limit)
        )
        if s.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        candidates = [i for i in s.scalars(query).all() if i is not None]
        claimed_at = utcnow()
        mine: list[int] = []
        for row_id in candidates:
            got = rowcount(s.execute(
                update(DueWork)
                .where(col(DueWork.id) == row_id, col(DueWork.status) == "pending")
                .values(status="claimed", claimed_by=worker_id, claimed_at=claimed_at,
                        attempts=col(DueWork.attempts) + 1)
            ))
            if got == 1:
                mine.append(row_id)
        if not mine:
            return []
        rows = s.scalars(
            select(DueWork).where(col(DueWork.id).in_(mine))
            .order_by(col(DueWork.due_at), col(DueWork.id))
        ).all()
        return list(rows)


def complete_due(kernel: Kernel, id: int, worker_id: str | None = None) -> bool:
    """Mark a claimed row done. With ``worker_id``, only if that worker still holds the claim.
    Returns whether the row was updated."""
    with kernel.new_session(write=True) as s, s.begin():
        stmt = update(DueWork).where(col(DueWork.id) == id, col(DueWork.status) == "claimed")
        if worker_id is not None:
            stmt = stmt.where(col(DueWork.claimed_by) == worker_id)
        return rowcount(s.execute(stmt.values(status="done", done_at=utcnow()))) == 1


def fail_due(
    kernel: Kernel,
    id: int,
    error: str,
    retry_at: datetime | None = None,
    worker_id: str | None = None,
) -> bool:
    """Record a claimed row's failure: back to ``pending`` due at ``retry_at``, or ``failed``
    for good when ``retry_at`` is ``None``. Returns whether the row was updated."""
    values: dict[str, Any] = {"last_error": error[:2000], "claimed_by": None, "claimed_at": None}
    if retry_at is None:
        values.update(status="failed", done_at=utcnow())
    else:
        values.update(status="pending", due_at=_utc(retry_at))
    with kernel.new_session(write=True) as s, s.begin():
        stmt = update(DueWork).where(col(DueWork.id) == id, col(DueWork.status) == "claimed")
        if worker_id is not None:
            stmt = stmt.where(col(DueWork.claimed_by) == worker_id)
        return rowcount(s.execute(stmt.values(**values))) == 1


def release_stale(
    kernel: Kernel,
    older_than: timedelta = STALE_AFTER,
    now: datetime | None = None,
    kind: str | None = None,
) -> int:
    """Put rows claimed longer than ``older_than`` ago back to ``pending`` (their worker is
    presumed dead). Returns how many were released."""
    now = _utc(now) if now is not None else utcnow()
    with kernel.new_session(write=True) as s, s.begin():
        stmt = update(DueWork).where(
            col(DueWork.status) == "claimed", col(DueWork.claimed_at) < now - older_than
        )
        if kind is not None:
            stmt = stmt.where(col(DueWork.kind) == kind)
        released = rowcount(s.execute(
            stmt.values(status="pending", claimed_by=None, claimed_at=None)
        ))
    if released:
        log.warning("released %d stale due-work claim(s)", released)
    return released


def run_due(
    kernel: Kernel,
    kind: str,
    handler: Callable[[DueWork], Any],
    *,
    now: datetime | None = None,
    limit: int = 100,
    retry_after: timedelta = RETRY_AFTER,
    max_attempts: int = MAX_ATTEMPTS,
    worker_id: str | None = None,
) -> int:
    """Claim due rows of ``kind`` and call ``handler(row)`` for each: done on success; on an
    exception, retried after ``retry_after`` until ``max_attempts`` claims, then ``failed``.
    Returns how many rows were handled successfully."""
    worker_id = (worker_id or default_worker_id())[:120]
    ok = 0
    for row in claim_due(kernel, kind, now=now, limit=limit, worker_id=worker_id):
        assert row.id is not None
        try:
            resolve(handler(row))
        except Exception as exc:
            log.warning("due work %s/%s failed (attempt %d): %r", kind, row.key, row.attempts, exc)
            retry_at = None if row.attempts >= max_attempts else utcnow() + retry_after
            fail_due(kernel, row.id, f"{type(exc).__name__}: {exc}", retry_at, worker_id)
            continue
        complete_due(kernel, row.id, worker_id)
        ok += 1
    return ok
