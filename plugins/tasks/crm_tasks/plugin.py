"""The tasks plugin's hook implementations."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from crm_core.declarations import Action, EntityDecl, JobDecl, MenuItem, Panel, RouteDecl
from crm_core.errors import CRMError
from crm_core.hookspecs import hookimpl

log = logging.getLogger("crm.tasks")
STALE_NEXT_STEP = timedelta(days=7)
REMIND_AT = time(9, 0)  # a follow-up's next step due on a day becomes a task due at 09:00 local


@hookimpl
def register_entities(kernel: Any) -> list[EntityDecl]:
    from crm_tasks.models import Task

    return [EntityDecl("tasks.task", Task, "任务", "Task", owner_column="assignee_id",
                       read_action="tasks.read")]


@hookimpl
def register_permissions(kernel: Any) -> list[Action]:
    scoped: dict[str, str | bool] = {"admin": "all", "sales_manager": "team", "sales_rep": "own",
                                     "service_agent": "own"}
    return [
        Action("tasks.read", "查看任务", "Read tasks", entity="tasks.task", defaults=scoped),
        Action("tasks.create", "新建任务", "Create tasks", entity="tasks.task", defaults=scoped),
        Action("tasks.update", "编辑和完成任务", "Edit and complete tasks", entity="tasks.task",
               defaults=scoped),
        Action("tasks.delete", "删除任务", "Delete tasks", entity="tasks.task",
               defaults={"admin": "all", "sales_manager": "team", "sales_rep": "own"}),
        Action("tasks.manage_rules", "配置提醒规则", "Configure reminder rules",
               defaults={"admin": True}),
    ]


def due_reminders_job(kernel: Any, fire_key: str) -> None:
    from crm_tasks.services.reminders import send_due_reminders

    send_due_reminders(kernel)


def stale_customers_job(kernel: Any, fire_key: str) -> None:
    from crm_tasks.services.rules import run_stale_rule

    run_stale_rule(kernel.ctx())


@hookimpl
def register_jobs(kernel: Any) -> list[JobDecl]:
    return [
        JobDecl("tasks.due_reminders", due_reminders_job, "interval", {"minutes": 1},
                misfire_grace_time=300, description="Notify assignees of tasks falling due"),
        JobDecl("tasks.stale_customers", stale_customers_job, "cron", {"minute": 7},
                misfire_grace_time=3600,
                description="Reminder tasks for owned customers with no recent follow-up"),
    ]


@hookimpl
def register_routes(kernel: Any) -> list[RouteDecl]:
    from crm_tasks.schemas import RuleRead, RuleUpdate, TaskCreate, TaskRead, TaskUpdate
    from crm_tasks.web import api, feed, pages

    return [
        RouteDecl("/", pages.my_tasks, permission="tasks.read", name="my"),
        RouteDecl("/new", pages.quick_add, methods=("POST",), permission="tasks.create"),
        RouteDecl("/{id:int}/complete", pages.complete, methods=("POST",), permission="tasks.update"),
        RouteDecl("/team", pages.team_tasks, permission="tasks.read", name="team"),
        RouteDecl("/rules", pages.rules_page, permission="tasks.manage_rules", name="rules"),
        RouteDecl("/rules/{key}", pages.rules_save, methods=("POST",),
                  permission="tasks.manage_rules"),
        RouteDecl("/calendar", pages.calendar_page, permission="tasks.read", name="calendar"),
        RouteDecl("/calendar", pages.calendar_regenerate, methods=("POST",),
                  permission="tasks.read"),
        RouteDecl("/feed/{token}.ics", feed.feed, permission="public", name="feed"),
        # API
        RouteDecl("", api.tasks_collection, methods=("GET",), permission="tasks.read", api=True,
                  name="listTasks", summary="List tasks (keyset by due time)",
                  query_model=api.TaskListQuery, response_model=api.TaskPage, tags=("tasks",)),
        RouteDecl("", api.tasks_collection, methods=("POST",), permission="tasks.create",
                  api=True, name="createTask", summary="Create a task", request_model=TaskCreate,
                  response_model=TaskRead, status_code=201, tags=("tasks",)),
        RouteDecl("/{id:int}", api.task_item, methods=("GET",), permission="tasks.read",
                  api=True, name="getTask", summary="Read a task (ETag: its version)",
                  response_model=TaskRead, tags=("tasks",)),
        RouteDecl("/{id:int}", api.task_item, methods=("PATCH",), permission="tasks.update",
                  api=True, name="updateTask", summary="Change a task (If-Match required)",
                  request_model=TaskUpdate, response_model=TaskRead, tags=("tasks",)),
        RouteDecl("/{id:int}", api.task_item, methods=("DELETE",), permission="tasks.delete",
                  api=True, name="deleteTask", summary="Delete a task (If-Match required)",
                  status_code=204, tags=("tasks",)),
        RouteDecl("/{id:int}/complete", api.task_complete, methods=("POST",),
                  permission="tasks.update", api=True, name="completeTask",
                  summary="Mark a task done (a recurring task gets its next occurrence)",
                  response_model=TaskRead, tags=("tasks",)),
        RouteDecl("/rules", api.rules_collection, permission="tasks.manage_rules", api=True,
                  name="listRules", summary="Reminder rules", response_model=api.RuleList,
                  tags=("tasks",)),
        RouteDecl("/rules/{key}", api.rule_item, methods=("PATCH",),
                  permission="tasks.manage_rules", api=True, name="updateRule",
                  summary="Switch a reminder rule on or off, change its threshold",
                  request_model=RuleUpdate, response_model=RuleRead, tags=("tasks",)),
    ]


@hookimpl
def register_menu_items(kernel: Any) -> list[MenuItem]:
    return [MenuItem("tasks", "任务", "Tasks", "/tasks/", permission="tasks.read", order=40)]


@hookimpl
def dashboard_widgets(kernel: Any, ctx: Any) -> list[Panel]:
    if not ctx.actor.can("tasks.read") or ctx.actor.id is None:
        return []
    from crm_core.web import fragment
    from crm_core.web.i18n import gettext
    from crm_tasks.web.pages import my_sections

    sections = my_sections(ctx, limit=5)
    return [Panel("tasks.mine", gettext("My tasks"),
                  fragment(kernel, "tasks/widget.html", sections=sections), order=15)]


@hookimpl
def customer_panels(kernel: Any, ctx: Any, customer: Any) -> list[Panel]:
    if not ctx.actor.can("tasks.read"):
        return []
    from crm_core.web import fragment
    from crm_core.web.i18n import gettext
    from crm_tasks.services.tasks import list_tasks

    tasks = list_tasks(ctx, view="scope", related_entity="customer", related_id=customer.id,
                       limit=20).items
    return [Panel("tasks.customer", gettext("Open tasks"), fragment(
        kernel, "tasks/panel.html", tasks=tasks, customer=customer,
        can_create=ctx.actor.can("tasks.create")), order=40)]


def _followup_task(kernel: Any, followup_id: int) -> None:
    """A follow-up's next step with a due date becomes a task for its author (once)."""
    from crm_core.models import FollowUp, User
    from crm_tasks.services.tasks import create_task

    with kernel.new_session() as s, s.begin():
        fu = s.get(FollowUp, followup_id)
        user = s.get(User, fu.user_id) if fu is not None and fu.user_id else None
    if fu is None or user is None or not fu.next_step_due or not (fu.next_step or "").strip():
        return
    due_day: date = fu.next_step_due
    due = datetime.combine(due_day, REMIND_AT, ZoneInfo(user.timezone))
    if due < datetime.now(UTC) - STALE_NEXT_STEP:
        return  # a next step long past (a back-dated entry, old data): nothing to remind of
    try:
        create_task(kernel.ctx(interface="plugin"), {
            "title": fu.next_step.strip()[:200], "due_at": due, "assignee_id": user.id,
            "related_entity": "customer", "related_id": fu.customer_id,
        }, source="followup", source_key=f"followup:{followup_id}")
    except CRMError as exc:  # an inactive author, a customer gone: nothing to remind of
        log.info("follow-up %s: no task (%s)", followup_id, exc)


@hookimpl
def on_event(kernel: Any, event: Any) -> None:
    created = event.name == "followup.created" and event.payload.get("next_step_due")
    changed = event.name == "followup.updated" and "next_step_due" in event.payload.get("changes", {})
    if created or changed:
        _followup_task(kernel, int(event.entity_id))


@hookimpl
def load_demo_data(kernel: Any, ctx: Any, seed: int) -> None:
    from crm_tasks.demo import load

    load(kernel, ctx, seed)
