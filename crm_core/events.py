"""Domain events through a transactional outbox.

``emit`` writes an outbox row in the caller's transaction. After that transaction commits, the
dispatcher claims the row and calls each enabled plugin's ``on_*`` hooks. A plugin that raises
gets its own retry row with exponential back-off; the others are not held up. Nothing is
delivered for a rolled-back transaction, because the row never existed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, event, select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from crm_core.asyncutil import resolve
from crm_core.db import rowcount, utcnow
from crm_core.models import OutboxEvent, OutboxRetry
from crm_core.models.base import id_col
from crm_core.plugin_system.host import call_impl

if TYPE_CHECKING:
    from crm_core.context import Ctx
    from crm_core.kernel import Kernel

log = logging.getLogger("crm.events")
ENTITY_HOOKS = {
    "created": "on_entity_created", "updated": "on_entity_updated", "deleted": "on_entity_deleted",
}
MAX_ATTEMPTS = 10
STALE_AFTER = timedelta(seconds=30)


@dataclass(frozen=True)
class DomainEvent:
    id: int
    name: str  # "customer.created", "opportunity.won"
    entity: str
    entity_id: int | None
    actor_id: int | None
    payload: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None

    @property
    def kind(self) -> str:
        return self.name.rsplit(".", 1)[-1]

    @classmethod
    def from_row(cls, row: OutboxEvent) -> DomainEvent:
        assert row.id is not None
        return cls(row.id, row.name, row.entity, row.entity_id, row.actor_id, dict(row.payload),
                   row.created_at)


def hooks_for(name: str) -> list[str]:
    kind = name.rsplit(".", 1)[-1]
    return [h for h in (ENTITY_HOOKS.get(kind), "on_event") if h]


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(5 * 2 ** (attempts - 1), 3600))


class EventDispatcher:
    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    # -- writing side ----------------------------------------------------------------------
    def emit(
        self, ctx: Ctx, session: Session, name: str, entity: str, entity_id: int | None,
        payload: dict[str, Any],
    ) -> OutboxEvent:
        subscribed = self.subscribers(name)
        row = OutboxEvent(
            name=name, entity=entity, entity_id=entity_id, actor_id=ctx.actor.id,
            payload=payload, status="pending" if subscribed else "done",
            done_at=None if subscribed else utcnow(),
        )
        session.add(row)
        if subscribed:
            pending = session.info.setdefault("crm_outbox", [])
            if not pending:
                event.listen(session, "after_commit", self._after_commit, once=True)
                event.listen(session, "after_rollback", _forget, once=True)
            pending.append(row)
        return row

    def subscribers(self, name: str) -> list[str]:
        names: list[str] = []
        for hook in hooks_for(name):
            for impl in self.kernel.host.impls(hook):
                if impl.plugin_name not in names:
                    names.append(impl.plugin_name)
        return names

    def _after_commit(self, session: Session) -> None:
        rows = session.info.pop("crm_outbox", [])
        ids = [r.id for r in rows if r.id is not None]
        if ids:
            # the session is still inside its commit; deliver on fresh connections
            self.kernel_post_commit(ids)

    def kernel_post_commit(self, ids: list[int]) -> None:
        try:
            self.deliver(ids)
        except Exception:  # delivery problems never undo a committed write
            log.exception("event delivery failed; the sweeper will retry")

    # -- delivering side -------------------------------------------------------------------
    def deliver(self, ids: list[int]) -> int:
        """Claim and deliver these events; returns how many this call delivered."""
        done = 0
        for event_id in ids:
            with self.kernel.new_session(write=True) as s, s.begin():
                claimed = rowcount(s.execute(
                    update(OutboxEvent)
                    .where(col(OutboxEvent.id) == event_id, col(OutboxEvent.status) == "pending")
                    .values(status="processing", claimed_at=utcnow())
                ))
                row = s.get(OutboxEvent, event_id) if claimed == 1 else None
            if row is None:
                continue
            self._deliver_one(DomainEvent.from_row(row))
            done += 1
        return done

    def _deliver_one(self, ev: DomainEvent, only_plugin: str | None = None) -> list[str]:
        failures: list[tuple[str, str]] = []
        delivered_to: list[str] = []
        by_plugin: dict[str, list[Any]] = {}
        for hook in hooks_for(ev.name):
            for impl in self.kernel.host.impls(hook):
                by_plugin.setdefault(impl.plugin_name, []).append(impl)
        for plugin, impls in by_plugin.items():
            if only_plugin and plugin != only_plugin:
                continue
            try:
                for impl in impls:
                    resolve(call_impl(impl, kernel=self.kernel, event=ev))
                delivered_to.append(plugin)
            except Exception as exc:
                log.warning("plugin %s failed on event %s #%s: %r", plugin, ev.name, ev.id, exc)
                failures.append((plugin, repr(exc)[:2000]))
        if only_plugin is None:
            with self.kernel.new_session(write=True) as s, s.begin():
                for plugin, err in failures:
                    s.add(OutboxRetry(event_id=ev.id, plugin=plugin, last_error=err,
                                      next_attempt_at=utcnow() + backoff(1)))
                s.execute(update(OutboxEvent).where(col(OutboxEvent.id) == ev.id)
                          .values(status="done", done_at=utcnow()))
        elif failures:
            raise RuntimeError(failures[0][1])
        return delivered_to

    def retry_due(self, now: datetime | None = None) -> int:
        """Re-deliver failed (event, plugin) pairs whose back-off has passed."""
        now = now or utcnow()
        with self.kernel.new_session() as s:
            due = s.execute(
                select(col(OutboxRetry.id), col(OutboxRetry.next_attempt_at))
                .where(col(OutboxRetry.dead).is_(False), col(OutboxRetry.next_attempt_at) <= now)
                .order_by(col(OutboxRetry.next_attempt_at)).limit(500)
            ).all()
        ok = 0
        for retry_id, seen_at in due:
            with self.kernel.new_session(write=True) as s, s.begin():
                lease = now + timedelta(minutes=5)
                got = rowcount(s.execute(
                    update(OutboxRetry)
                    .where(col(OutboxRetry.id) == retry_id, col(OutboxRetry.next_attempt_at) == seen_at)
                    .values(next_attempt_at=lease)
                ))
                retry = s.get(OutboxRetry, retry_id) if got == 1 else None
                ev_row = s.get(OutboxEvent, retry.event_id) if retry else None
            if retry is None or ev_row is None:
                continue
            if not self.kernel.host.is_enabled(retry.plugin):
                continue  # a disabled plugin's events wait until it is enabled again
            try:
                self._deliver_one(DomainEvent.from_row(ev_row), only_plugin=retry.plugin)
            except Exception as exc:
                attempts = retry.attempts + 1
                with self.kernel.new_session(write=True) as s, s.begin():
                    s.execute(update(OutboxRetry).where(col(OutboxRetry.id) == retry_id).values(
                        attempts=attempts, last_error=str(exc)[:2000],
                        next_attempt_at=utcnow() + backoff(attempts),
                        dead=attempts >= MAX_ATTEMPTS))
                continue
            with self.kernel.new_session(write=True) as s, s.begin():
                s.execute(delete(OutboxRetry).where(col(OutboxRetry.id) == retry_id))
            ok += 1
        return ok

    def sweep(self, now: datetime | None = None) -> int:
        """Deliver events left pending by a process that died between commit and delivery."""
        now = now or utcnow()
        with self.kernel.new_session(write=True) as s, s.begin():
            s.execute(
                update(OutboxEvent)
                .where(col(OutboxEvent.status) == "processing",
                       col(OutboxEvent.claimed_at) < now - timedelta(minutes=5))
                .values(status="pending")
            )
            ids = list(s.scalars(
                select(id_col(OutboxEvent))
                .where(col(OutboxEvent.status) == "pending", col(OutboxEvent.created_at) < now - STALE_AFTER)
                .order_by(col(OutboxEvent.id)).limit(1000)
            ).all())
        return self.deliver(ids)


def _forget(session: Session) -> None:
    session.info.pop("crm_outbox", None)
