"""``/api/v1/tasks/…``: tasks CRUD + complete (ETag / If-Match, keyset pages) and the rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from crm_core.errors import Conflict, PreconditionFailed
from crm_core.web import ctx_for
from crm_core.web.api import read_body, read_if_match, read_query
from crm_tasks.schemas import RuleRead, RuleUpdate, TaskCreate, TaskRead, TaskUpdate
from crm_tasks.services import tasks as svc
from crm_tasks.services.rules import list_rules, update_rule

T = TypeVar("T")


class TaskListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    view: Literal["mine", "scope"] = Field(default="mine", description=(
        "mine: assigned to you; scope: every task you may read (own / team / all)"))
    status: Literal["open", "done", "all"] = "open"
    due_before: datetime | None = None
    due_after: datetime | None = None
    related_entity: Literal["customer", "leads.lead", "pipeline.opportunity"] | None = None
    related_id: int | None = Field(default=None, ge=1)
    assignee_id: int | None = Field(default=None, ge=1)
    cursor: str | None = Field(default=None, max_length=2000)
    limit: int = Field(default=50, ge=1, le=200)


class TaskPage(BaseModel):
    items: list[TaskRead]
    next_cursor: str | None
    limit: int


class RuleList(BaseModel):
    items: list[RuleRead]


class NoBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _json(model: BaseModel, status: int = 200, version: int | None = None) -> JSONResponse:
    headers = {"ETag": f'W/"{version}"'} if version is not None else {}
    return JSONResponse(model.model_dump(mode="json"), status_code=status, headers=headers)


def _guard(version: int | None, run: Callable[[], T]) -> T:
    """A stale version named by If-Match is 412 (as in the core API), not 409."""
    try:
        return run()
    except Conflict as exc:
        if version is not None and "current_version" in exc.extra:
            raise PreconditionFailed(exc.message, **exc.extra) from None
        raise


def _id(request: Request) -> int:
    return int(request.path_params["id"])


def tasks_collection(request: Request) -> Response:
    ctx = ctx_for(request)
    if request.method == "POST":
        task = svc.create_task(ctx, read_body(request, TaskCreate))
        resp = _json(task, 201, task.version)
        resp.headers["Location"] = f"/api/v1/tasks/{task.id}"
        return resp
    q, _ = read_query(request, TaskListQuery)
    page = svc.list_tasks(ctx, **q.model_dump(exclude={"limit", "cursor"}), cursor=q.cursor,
                          limit=q.limit)
    return _json(TaskPage(items=page.items, next_cursor=page.next_cursor, limit=page.limit))


def task_item(request: Request) -> Response:
    ctx = ctx_for(request)
    if request.method == "GET":
        read_query(request, NoBody)
        task = svc.get_task(ctx, _id(request))
        return _json(task, version=task.version)
    version = read_if_match(request, "required")
    if request.method == "DELETE":
        _guard(version, lambda: svc.delete_task(ctx, _id(request), version=version))
        return Response(status_code=204)
    body = read_body(request, TaskUpdate)
    task = _guard(version, lambda: svc.update_task(ctx, _id(request), body, version=version))
    return _json(task, version=task.version)


def task_complete(request: Request) -> Response:
    version = read_if_match(request, "optional")
    ctx = ctx_for(request)
    task = _guard(version, lambda: svc.complete_task(ctx, _id(request), version=version))
    return _json(task, version=task.version)


def rules_collection(request: Request) -> Response:
    read_query(request, NoBody)
    return _json(RuleList(items=list_rules(ctx_for(request))))


def rule_item(request: Request) -> Response:
    version = read_if_match(request, "optional")
    ctx, body = ctx_for(request), read_body(request, RuleUpdate)
    rule = _guard(version, lambda: update_rule(ctx, request.path_params["key"], body, version=version))
    return _json(rule, version=rule.version)
