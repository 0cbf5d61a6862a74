"""Reminder rules: the administrator's settings, and the stale-customer sweep.

Finding the due customers is **one indexed query**: ``SELECT … FROM crm_customer WHERE status IN
(active) AND owner_id IS NOT NULL AND last_followup_at < :cutoff UNION ALL SELECT … (never
followed up, created before the cutoff)`` — both halves range scans of the kernel's index on
``crm_customer (status, last_followup_at)`` — read without a write lock, keeping only the
customers whose reminder (``source_key``: the customer + the last follow-up it is stale since)
does not exist yet. The reminders are then written with ``INSERT … SELECT … ON CONFLICT
(source_key) DO NOTHING RETURNING``, so a second run — or a second worker — creates nothing, and
a customer followed up and left alone again gets a new reminder. Each new task notifies its owner
(in-app + email, exactly once by the notification's dedup key).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, case, cast, func, literal, or_, select, union_all
from sqlalchemy.orm import Session
from sqlmodel import col

from crm_core.context import Ctx
from crm_core.db import dialect_insert, utcnow
from crm_core.errors import NotFound
from crm_core.models import Customer, User
from crm_core.models.base import table_of
from crm_core.permissions.scope import require
from crm_core.services.base import bump, check_version, parse, record
from crm_core.services.notifications import Note, notify_many
from crm_tasks.models import ReminderRule, Task
from crm_tasks.schemas import RuleRead, RuleUpdate

STALE = "stale_customer"
ACTIVE_STATUSES = ("potential", "won")  # churned customers are not chased
DEFAULT_RULES: list[dict[str, Any]] = [
    {"key": STALE, "plugin": "tasks", "label": "负责的活跃客户超过 N 天未跟进 → 给负责人建提醒任务",
     "label_en": "Owned active customer with no follow-up for N days → reminder task for its owner",
     "unit": "days", "threshold": 3, "enabled": True},
]


def ensure_rule(s: Session, values: dict[str, Any]) -> None:
    """Add a rule row if it is missing (a plugin calls this for the rules it implements)."""
    table = table_of(ReminderRule)
    now = utcnow()
    s.execute(dialect_insert(s, table).values(created_at=now, updated_at=now, version=1, **values)
              .on_conflict_do_nothing(index_elements=["key"]))


def all_defaults(kernel: Any) -> list[dict[str, Any]]:
    """The tasks plugin's rules and those its dependents declare (``tasks_reminder_rules``)."""
    out = list(DEFAULT_RULES)
    for result in kernel.host.hook_caller("tasks_reminder_rules")(kernel=kernel):
        out.extend(result or [])
    return out


def rule_settings(ctx: Ctx, defaults: dict[str, Any]) -> ReminderRule:
    """A rule's current settings (added with ``defaults`` the first time)."""
    with ctx.uow() as s:
        ensure_rule(s, defaults)
        row = s.scalar(select(ReminderRule).where(col(ReminderRule.key) == defaults["key"]))
        assert row is not None
        return row


def list_rules(ctx: Ctx) -> list[RuleRead]:
    require(ctx.actor, "tasks.manage_rules")
    with ctx.uow() as s:
        for values in all_defaults(ctx.kernel):
            ensure_rule(s, values)
        rows = s.scalars(select(ReminderRule).order_by(col(ReminderRule.id))).all()
        active = [r for r in rows if ctx.kernel.is_active(r.plugin)]
        return [RuleRead.model_validate(r) for r in active]


def update_rule(ctx: Ctx, key: str, data: RuleUpdate | dict[str, Any],
                version: int | None = None) -> RuleRead:
    upd = parse(RuleUpdate, data).model_dump(exclude_unset=True, exclude_none=True)
    require(ctx.actor, "tasks.manage_rules")
    with ctx.uow() as s:
        for values in all_defaults(ctx.kernel):
            ensure_rule(s, values)
        row = s.scalar(select(ReminderRule).where(col(ReminderRule.key) == key))
        if row is None or not ctx.kernel.is_active(row.plugin):
            raise NotFound(f"no reminder rule {key!r}")
        check_version(row, version, "rule")
        changes = {k: [getattr(row, k), v] for k, v in upd.items() if getattr(row, k) != v}
        if changes:
            for k, v in upd.items():
                setattr(row, k, v)
            bump(row)
            s.flush()
            record(ctx, s, action="tasks.rule_update", entity="tasks.rule", entity_id=row.id,
                   changes=changes, summary=key)
        return RuleRead.model_validate(row)


def stale_branches(cutoff: datetime) -> tuple[Any, Any]:
    """Owned, active, no follow-up since ``cutoff`` — as two conditions, each one index range on
    ``crm_customer (status, last_followup_at)``: followed up before ``cutoff``, and never
    followed up (``last_followup_at IS NULL``) but created before it."""
    c = table_of(Customer).c
    active = c.status.in_(ACTIVE_STATUSES)
    owned = c.owner_id.is_not(None)
    return (and_(active, c.last_followup_at < cutoff, owned),
            and_(active, c.last_followup_at.is_(None), c.created_at < cutoff, owned))


def stale_condition(cutoff: datetime) -> Any:
    """The same as one condition (for counting, filtering a list)."""
    return or_(*stale_branches(cutoff))


def stale_select(cutoff: datetime, *columns: Any, also: Any = None) -> Any:
    """``SELECT columns FROM crm_customer WHERE branch 1 UNION ALL … WHERE branch 2``: one
    statement, two index range scans (cheaper than an OR, which SQLite answers with a row-id
    set and PostgreSQL with a BitmapOr). ``also``: one more condition for both branches."""
    first, second = stale_branches(cutoff)
    if also is not None:
        first, second = and_(first, also), and_(second, also)
    return union_all(select(*columns).where(first), select(*columns).where(second))


def reminder_key() -> Any:
    """The reminder's ``source_key`` for a customer row: the customer and the last follow-up it
    is stale since (``never`` when it has none)."""
    c = table_of(Customer).c
    since = func.coalesce(cast(c.last_followup_at, String), literal("never"))
    return literal("stale:") + cast(c.id, String) + literal(":") + since


def find_stale(s: Session, cutoff: datetime) -> Any:
    """The due customers (id, owner) — what the benchmark times."""
    c = table_of(Customer).c
    return s.execute(stale_select(cutoff, c.id, c.owner_id))


TITLE_PREFIX = {"zh_CN": "跟进客户：", "en": "Follow up with "}


def _title_prefix(owner_id: Any) -> Any:
    """The reminder's title prefix in its owner's language (SQL, per row)."""
    locale = select(table_of(User).c.locale).where(table_of(User).c.id == owner_id).scalar_subquery()
    return case((locale == "en", literal(TITLE_PREFIX["en"])), else_=literal(TITLE_PREFIX["zh_CN"]))


def _stale_body(days: int, locale: str | None) -> str:
    if locale == "en":
        return f"No follow-up for more than {days} days."
    return f"超过 {days} 天未跟进。"


def sweep_stale_customers(ctx: Ctx, days: int, now: datetime | None = None,
                          chunk: int = 2000) -> list[int]:
    """Create the reminder tasks and notify their owners; the new task ids.

    First a read (no write lock; on SQLite other writers carry on): the due customers whose
    reminder for this lull does not exist yet — the index query above plus a lookup of the
    reminder's key in the unique index. Then, in one write transaction, ``INSERT … SELECT …
    WHERE id IN (…) ON CONFLICT (source_key) DO NOTHING RETURNING`` per chunk (a worker that got
    there first wins, nothing is doubled) and one multi-row insert of the notifications. A run
    that finds nothing new writes nothing."""
    now = now or utcnow()
    cutoff = now - timedelta(days=days)
    tt = table_of(Task)
    c = table_of(Customer)
    key = reminder_key()
    missing = ~select(tt.c.id).where(tt.c.source_key == key).exists()
    with ctx.reader() as s:
        todo = [r[0] for r in s.execute(stale_select(cutoff, c.c.id, also=missing))]
    if not todo:
        return []
    due = literal(now, tt.c.due_at.type)
    title = func.substr(_title_prefix(c.c.owner_id) + c.c.name, 1, 200)
    cols = ["created_at", "updated_at", "version", "title", "due_at", "assignee_id",
            "related_entity", "related_id", "source", "source_key"]
    created: list[Any] = []
    with ctx.uow() as s:
        for start in range(0, len(todo), chunk):
            sel = stale_select(cutoff, due, due, literal(1), title, due, c.c.owner_id,
                               literal("customer"), c.c.id, literal("rule.stale_customer"), key,
                               also=c.c.id.in_(todo[start:start + chunk]))
            stmt = (dialect_insert(s, tt).from_select(cols, sel)
                    .on_conflict_do_nothing(index_elements=["source_key"])
                    .returning(tt.c.id, tt.c.assignee_id, tt.c.title, tt.c.related_id))
            created.extend(s.execute(stmt))
        owners = {r[1] for r in created}
        locales: dict[int, str] = {}
        if owners:
            for uid, locale in s.execute(select(col(User.id), col(User.locale))
                                         .where(col(User.id).in_(owners))):
                locales[uid] = locale
        notify_many(ctx, [Note(owner_id, "tasks.stale_customer", task_title,
                               _stale_body(days, locales.get(owner_id)),
                               f"/customers/{customer_id}", f"tasks.task:{task_id}")
                          for task_id, owner_id, task_title, customer_id in created])
        if created:
            record(ctx, s, action="tasks.rule_run", entity="tasks.rule", entity_id=None,
                   changes={"created": [0, len(created)]}, summary=f"{STALE}: {len(created)} task(s)")
        return [r[0] for r in created]


def run_stale_rule(ctx: Ctx, now: datetime | None = None) -> list[int]:
    """The job's work: nothing when the rule is switched off."""
    rule = rule_settings(ctx, DEFAULT_RULES[0])
    if not rule.enabled:
        return []
    return sweep_stale_customers(ctx, rule.threshold, now)
