"""Tasks: create, change, complete (recurrence), delete, list — validate → authorise → write →
audit + event, scope in SQL by assignee (``tasks.read`` / ``tasks.update`` … own/team/all)."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session
from sqlmodel import col

from crm_core.context import Ctx
from crm_core.db import utcnow
from crm_core.duework import schedule_due
from crm_core.errors import NotFound, PermissionDenied, ValidationError
from crm_core.models import TeamMember, User
from crm_core.permissions.actor import Actor, load_actor
from crm_core.permissions.scope import fetch_in_scope, require, scope_clause
from crm_core.services.base import (
    Page,
    bump,
    changes_between,
    check_version,
    clamp_limit,
    decode_cursor,
    delete_recorded,
    encode_cursor,
    parse,
    record,
    run_validators,
)
from crm_tasks.models import Task
from crm_tasks.schemas import TaskCreate, TaskRead, TaskUpdate

ENTITY = "tasks.task"
DUE_KIND = "tasks.due"
_FIELDS = ("title", "notes", "due_at", "assignee_id", "related_entity", "related_id",
           "recurrence_every", "recurrence_unit")
# related entity → the action that reads it (a plugin's entity counts only while it is enabled)
RELATED_READ = {"customer": "customers.read", "leads.lead": "leads.read",
                "pipeline.opportunity": "pipeline.read"}


def to_read(row: Task) -> TaskRead:
    return TaskRead.model_validate(row)


def as_utc(dt: datetime, tz: str) -> datetime:
    """Aware UTC; a naive time is read in ``tz`` (what the user typed)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=ZoneInfo(tz))
    return dt.astimezone(UTC)


def add_interval(at: datetime, every: int, unit: str) -> datetime:
    if unit == "day":
        return at + timedelta(days=every)
    if unit == "week":
        return at + timedelta(weeks=every)
    month = at.month - 1 + every
    year, month = at.year + month // 12, month % 12 + 1
    return at.replace(year=year, month=month, day=min(at.day, calendar.monthrange(year, month)[1]))


def _actor_of(s: Session, user_id: int) -> Actor:
    user = s.get(User, user_id)
    if user is None or not user.is_active:
        raise ValidationError("invalid task", {"assignee_id": ["no such active user"]})
    return load_actor(s, user)


def _check_assignee(ctx: Ctx, s: Session, assignee_id: int, action: str) -> Actor:
    """The creator may give tasks to themselves (own), their teams' members (team) or anyone
    (all)."""
    scope = ctx.actor.scope(action)
    if scope is None:
        raise PermissionDenied(f"{ctx.actor.login} may not {action}")
    assignee = _actor_of(s, assignee_id)
    if scope == "all" or assignee_id == ctx.actor.id:
        return assignee
    if scope == "team" and ctx.actor.team_ids and s.scalar(
            select(col(TeamMember.user_id)).where(col(TeamMember.team_id).in_(ctx.actor.team_ids),
                                                  col(TeamMember.user_id) == assignee_id)):
        return assignee
    raise PermissionDenied(f"{ctx.actor.login} may not give tasks to user {assignee_id}")


def _check_related(ctx: Ctx, s: Session, entity: str | None, rid: int | None,
                   assignee: Actor) -> None:
    if entity is None and rid is None:
        return
    if entity is None or rid is None:
        key = "related_id" if rid is None else "related_entity"
        raise ValidationError("invalid task", {key: ["give both related_entity and related_id"]})
    kernel = ctx.kernel
    known = kernel.entities.get(entity)
    if entity not in RELATED_READ or known is None or not kernel.is_active(known[1]):
        raise ValidationError("invalid task", {"related_entity": ["unknown or switched off"]})
    action = known[0].read_action or RELATED_READ[entity]
    try:
        if not ctx.actor.is_system:
            fetch_in_scope(kernel, s, ctx.actor, entity, rid, action)
    except (NotFound, PermissionDenied):
        raise ValidationError("invalid task", {"related_id": ["not found"]}) from None
    try:
        fetch_in_scope(kernel, s, assignee, entity, rid, action)
    except (NotFound, PermissionDenied):
        raise ValidationError("invalid task", {"assignee_id": [
            "the assignee cannot see the related record"]}) from None


def _check_recurrence(values: dict[str, Any]) -> None:
    if (values.get("recurrence_every") is None) != (values.get("recurrence_unit") is None):
        raise ValidationError("invalid task", {"recurrence_unit": [
            "give both recurrence_every and recurrence_unit (or neither)"]})


def schedule_reminder(s: Session, row: Task) -> None:
    """Due work: remind the assignee when the task falls due (once per task and due time)."""
    if row.done_at is None and row.id is not None:
        due = row.due_at if row.due_at.tzinfo else row.due_at.replace(tzinfo=UTC)
        schedule_due(s, DUE_KIND, f"task:{row.id}:{due.isoformat()}", due, {"id": row.id})


def create_task(ctx: Ctx, data: TaskCreate | dict[str, Any], *, source: str = "manual",
                source_key: str | None = None, remind: bool = True) -> TaskRead:
    """Create a task (joins the caller's transaction). With ``source_key`` the call is
    idempotent: a task already created under that key is returned unchanged."""
    d = parse(TaskCreate, data)
    require(ctx.actor, "tasks.create")
    with ctx.uow() as s:
        if source_key is not None:
            existing = s.scalar(select(Task).where(col(Task.source_key) == source_key))
            if existing is not None:
                return to_read(existing)
        assignee_id = d.assignee_id or ctx.actor.id
        if assignee_id is None:
            raise ValidationError("invalid task", {"assignee_id": ["required"]})
        assignee = _check_assignee(ctx, s, assignee_id, "tasks.create")
        values = {**d.model_dump(), "assignee_id": assignee_id,
                  "due_at": as_utc(d.due_at, ctx.actor.timezone)}
        _check_recurrence(values)
        _check_related(ctx, s, d.related_entity, d.related_id, assignee)
        run_validators(ctx, ENTITY, values, None)
        row = Task(**values, source=source, source_key=source_key, created_by_id=ctx.actor.id)
        s.add(row)
        s.flush()
        if remind:
            schedule_reminder(s, row)
        public = {k: getattr(row, k) for k in _FIELDS}
        record(ctx, s, action="tasks.create", entity=ENTITY, entity_id=row.id,
               changes={k: [None, v] for k, v in public.items() if v is not None},
               summary=row.title[:80], event="tasks.task.created",
               payload={"id": row.id, "source": source, **public})
        return to_read(row)


def get_task(ctx: Ctx, task_id: int) -> TaskRead:
    with ctx.reader() as s:
        return to_read(fetch_in_scope(ctx.kernel, s, ctx.actor, ENTITY, task_id, "tasks.read"))


def update_task(ctx: Ctx, task_id: int, data: TaskUpdate | dict[str, Any],
                version: int | None = None) -> TaskRead:
    upd = parse(TaskUpdate, data).model_dump(exclude_unset=True)
    for k in ("title", "due_at", "assignee_id"):
        if k in upd and upd[k] is None:
            raise ValidationError("invalid task", {k: ["cannot be empty"]})
    if "due_at" in upd:
        upd["due_at"] = as_utc(upd["due_at"], ctx.actor.timezone)
    with ctx.uow() as s:
        row = fetch_in_scope(ctx.kernel, s, ctx.actor, ENTITY, task_id, "tasks.update",
                             for_update=True)
        check_version(row, version, "task")
        before = {k: getattr(row, k) for k in _FIELDS}
        after = {**before, **upd}
        _check_recurrence(after)
        assignee = (_check_assignee(ctx, s, after["assignee_id"], "tasks.update")
                    if after["assignee_id"] != before["assignee_id"] else _actor_of(s, row.assignee_id))
        if (after["related_entity"], after["related_id"], after["assignee_id"]) != (
                before["related_entity"], before["related_id"], before["assignee_id"]):
            _check_related(ctx, s, after["related_entity"], after["related_id"], assignee)
        run_validators(ctx, ENTITY, after, row)
        changes = changes_between(before, after)
        if changes:
            for k, v in upd.items():
                setattr(row, k, v)
            bump(row)
            s.flush()
            if "due_at" in changes:
                schedule_reminder(s, row)
            record(ctx, s, action="tasks.update", entity=ENTITY, entity_id=row.id, changes=changes,
                   summary=row.title[:80], event="tasks.task.updated",
                   payload={"id": row.id, "version": row.version, "changes": changes})
        return to_read(row)


def complete_task(ctx: Ctx, task_id: int, version: int | None = None) -> TaskRead:
    """Mark done (again: no change). A recurring task gets its next occurrence, once."""
    with ctx.uow() as s:
        row = fetch_in_scope(ctx.kernel, s, ctx.actor, ENTITY, task_id, "tasks.update",
                             for_update=True)
        check_version(row, version, "task")
        if row.done_at is not None:
            return to_read(row)
        row.done_at = utcnow()
        row.completed_by_id = ctx.actor.id
        bump(row)
        s.flush()
        record(ctx, s, action="tasks.complete", entity=ENTITY, entity_id=row.id,
               changes={"done_at": [None, row.done_at]}, summary=row.title[:80],
               event="tasks.task.completed",
               payload={"id": row.id, "assignee_id": row.assignee_id, "title": row.title})
        if row.recurrence_every and row.recurrence_unit:
            _next_occurrence(ctx, s, row)
        return to_read(row)


def _next_occurrence(ctx: Ctx, s: Session, row: Task) -> None:
    assert row.recurrence_every is not None and row.recurrence_unit is not None
    due = row.due_at if row.due_at.tzinfo else row.due_at.replace(tzinfo=UTC)
    now = utcnow()
    nxt = add_interval(due, row.recurrence_every, row.recurrence_unit)
    for _ in range(1000):  # completed late: the next one still lies ahead
        if nxt > now:
            break
        nxt = add_interval(nxt, row.recurrence_every, row.recurrence_unit)
    key = f"recur:{row.id}"
    if s.scalar(select(col(Task.id)).where(col(Task.source_key) == key)) is not None:
        return
    new = Task(title=row.title, notes=row.notes, due_at=nxt, assignee_id=row.assignee_id,
               related_entity=row.related_entity, related_id=row.related_id,
               recurrence_every=row.recurrence_every, recurrence_unit=row.recurrence_unit,
               source="recurrence", source_key=key, created_by_id=ctx.actor.id)
    s.add(new)
    s.flush()
    schedule_reminder(s, new)
    record(ctx, s, action="tasks.create", entity=ENTITY, entity_id=new.id,
           changes={"due_at": [None, nxt], "title": [None, new.title]}, summary=new.title[:80],
           event="tasks.task.created", payload={"id": new.id, "source": "recurrence",
                                                "previous_id": row.id, "due_at": nxt})


def reopen_task(ctx: Ctx, task_id: int, version: int | None = None) -> TaskRead:
    with ctx.uow() as s:
        row = fetch_in_scope(ctx.kernel, s, ctx.actor, ENTITY, task_id, "tasks.update",
                             for_update=True)
        check_version(row, version, "task")
        if row.done_at is None:
            return to_read(row)
        before = row.done_at
        row.done_at = None
        row.completed_by_id = None
        bump(row)
        s.flush()
        record(ctx, s, action="tasks.reopen", entity=ENTITY, entity_id=row.id,
               changes={"done_at": [before, None]}, summary=row.title[:80],
               event="tasks.task.updated",
               payload={"id": row.id, "version": row.version, "changes": {"done_at": [before, None]}})
        return to_read(row)


def delete_task(ctx: Ctx, task_id: int, version: int | None = None) -> None:
    with ctx.uow() as s:
        row = fetch_in_scope(ctx.kernel, s, ctx.actor, ENTITY, task_id, "tasks.delete",
                             for_update=True)
        check_version(row, version, "task")
        snapshot = {k: getattr(row, k) for k in _FIELDS}
        delete_recorded(ctx, s, row, entity=ENTITY, action="tasks.delete", event="tasks.task.deleted",
                        snapshot=snapshot, summary=str(snapshot["title"])[:80])


VIEWS = ("mine", "scope")
STATUSES = ("open", "done", "all")


def list_tasks(
    ctx: Ctx, *, view: str = "mine", status: str = "open", due_before: datetime | None = None,
    due_after: datetime | None = None, related_entity: str | None = None,
    related_id: int | None = None, assignee_id: int | None = None, cursor: str | None = None,
    limit: int | None = None,
) -> Page[TaskRead]:
    """Tasks by due time (then id), keyset-paged. ``view="mine"``: assigned to the actor;
    ``"scope"``: every task the actor may read (own / team / all)."""
    limit = clamp_limit(limit)
    if view not in VIEWS or status not in STATUSES:
        raise ValidationError("invalid query", {"view" if view not in VIEWS else "status": ["unknown"]})
    stmt = select(Task).where(scope_clause(ctx.kernel, ctx.actor, ENTITY, "tasks.read"))
    if view == "mine":
        stmt = stmt.where(col(Task.assignee_id) == ctx.actor.id)
    if assignee_id is not None:
        stmt = stmt.where(col(Task.assignee_id) == assignee_id)
    if status == "open":
        stmt = stmt.where(col(Task.done_at).is_(None))
    elif status == "done":
        stmt = stmt.where(col(Task.done_at).is_not(None))
    if due_before is not None:
        stmt = stmt.where(col(Task.due_at) < due_before)
    if due_after is not None:
        stmt = stmt.where(col(Task.due_at) >= due_after)
    if related_entity is not None:
        stmt = stmt.where(col(Task.related_entity) == related_entity)
    if related_id is not None:
        stmt = stmt.where(col(Task.related_id) == related_id)
    if cursor:
        at, last_id = decode_cursor(cursor, 2)
        try:
            if not isinstance(last_id, int) or isinstance(last_id, bool):
                raise TypeError
            at = datetime.fromisoformat(at)
        except (TypeError, ValueError):
            raise ValidationError("invalid cursor",
                                  {"cursor": ["not a cursor from a previous page"]}) from None
        stmt = stmt.where(tuple_(col(Task.due_at), col(Task.id)) > (at, last_id))
    with ctx.reader() as s:
        rows = list(s.scalars(stmt.order_by(col(Task.due_at), col(Task.id)).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor([rows[-1].due_at, rows[-1].id]) if more and rows else None
    return Page([to_read(r) for r in rows], nxt, limit)
