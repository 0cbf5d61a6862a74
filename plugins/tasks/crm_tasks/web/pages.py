"""The tasks pages: my tasks (overdue, today, upcoming) with quick add and complete, team tasks
for managers, reminder rules for administrators, the calendar feed."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import col
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from crm_core.db import utcnow
from crm_core.errors import ValidationError
from crm_core.models import User
from crm_core.web import ctx_for, form_data, render
from crm_tasks.services import tasks as svc
from crm_tasks.services.calendar import has_feed, regenerate_feed
from crm_tasks.services.rules import list_rules, update_rule


def _form(request: Request, name: str, limit: int = 200) -> str:
    value = form_data(request).get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def day_bounds(tz: str, now: datetime | None = None) -> tuple[datetime, datetime]:
    """Start and end of today in ``tz``, as aware datetimes."""
    zone = ZoneInfo(tz)
    today = (now or utcnow()).astimezone(zone).date()
    start = datetime.combine(today, time(0), zone)
    return start, start + timedelta(days=1)


def user_names(ctx: Any, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    with ctx.reader() as s:
        return {uid: name or login for uid, name, login in s.execute(
            select(col(User.id), col(User.display_name), col(User.login)).where(col(User.id).in_(ids)))}


def my_sections(ctx: Any, limit: int = 50) -> dict[str, Any]:
    now = utcnow()
    _start, end = day_bounds(ctx.actor.timezone, now)
    return {
        "now": now,
        "overdue": svc.list_tasks(ctx, due_before=now, limit=limit).items,
        "today": svc.list_tasks(ctx, due_after=now, due_before=end, limit=limit).items,
        "upcoming": svc.list_tasks(ctx, due_after=end, due_before=end + timedelta(days=14),
                                   limit=limit).items,
    }


def my_tasks(request: Request, errors: dict[str, list[str]] | None = None,
             values: dict[str, str] | None = None, status_code: int = 200) -> Response:
    ctx = ctx_for(request)
    actor = ctx.actor
    scope = actor.scope("tasks.read")
    local_today = utcnow().astimezone(ZoneInfo(actor.timezone)).date()
    values = values or {"due_date": local_today.isoformat(), "due_time": "17:00",
                        "related_id": request.query_params.get("customer_id", "")[:12]}
    return render(request, "tasks/my.html", sections=my_sections(ctx), errors=errors or {},
                  values=values, can_create=actor.can("tasks.create"),
                  can_update=actor.can("tasks.update"), team_view=scope in ("team", "all"),
                  can_rules=actor.can("tasks.manage_rules"), status_code=status_code)


def _parse_due(values: dict[str, str]) -> datetime:
    try:
        day = date.fromisoformat(values["due_date"])
        at = time.fromisoformat(values["due_time"] or "09:00")
    except ValueError:
        raise ValidationError("invalid task", {"due_at": ["enter a date and a time"]}) from None
    return datetime.combine(day, at)  # naive: the service reads it in the user's zone


def quick_add(request: Request) -> Response:
    keys = ("title", "due_date", "due_time", "related_id", "recurrence_every", "recurrence_unit",
            "notes")
    values = {k: _form(request, k, 2000 if k == "notes" else 200) for k in keys}
    data: dict[str, Any] = {"title": values["title"], "notes": values["notes"] or None}
    try:
        data["due_at"] = _parse_due(values)
        if values["related_id"]:
            if not values["related_id"].isdigit():
                raise ValidationError("invalid task", {"related_id": ["not found"]})
            data.update(related_entity="customer", related_id=int(values["related_id"]))
        if values["recurrence_every"]:
            if not values["recurrence_every"].isdigit():
                raise ValidationError("invalid task", {"recurrence_every": ["a whole number"]})
            data.update(recurrence_every=int(values["recurrence_every"]),
                        recurrence_unit=values["recurrence_unit"] or "day")
        svc.create_task(ctx_for(request), data)
    except ValidationError as exc:
        return my_tasks(request, errors=exc.errors or {"title": [exc.message]}, values=values,
                        status_code=422)
    back = _form(request, "back")
    return RedirectResponse(back if back.startswith("/customers/") else "/tasks/", 303)


def complete(request: Request) -> Response:
    svc.complete_task(ctx_for(request), request.path_params["id"])
    back = _form(request, "back")
    return RedirectResponse(back if back.startswith("/tasks/") else "/tasks/", 303)


def team_tasks(request: Request) -> Response:
    ctx = ctx_for(request)
    if ctx.actor.scope("tasks.read") not in ("team", "all"):
        return RedirectResponse("/tasks/", 303)
    raw = request.query_params.get("assignee", "")
    assignee = int(raw) if raw.isdigit() and len(raw) < 10 else None
    page = svc.list_tasks(ctx, view="scope", assignee_id=assignee,
                          cursor=request.query_params.get("cursor") or None, limit=100)
    names = user_names(ctx, {t.assignee_id for t in page.items})
    return render(request, "tasks/team.html", page=page, names=names, now=utcnow(),
                  assignee=assignee)


def rules_page(request: Request, errors: dict[str, list[str]] | None = None) -> Response:
    return render(request, "tasks/rules.html", rules=list_rules(ctx_for(request)),
                  errors=errors or {}, saved=request.query_params.get("saved") == "1")


def rules_save(request: Request) -> Response:
    key = request.path_params["key"]
    raw = _form(request, "threshold", 10)
    data: dict[str, Any] = {"enabled": _form(request, "enabled") == "on"}
    if not raw.isdigit():
        return rules_page(request, errors={key: ["a whole number from 1 to 365"]})
    data["threshold"] = int(raw)
    try:
        update_rule(ctx_for(request), key, data)
    except ValidationError:
        return rules_page(request, errors={key: ["a whole number from 1 to 365"]})
    return RedirectResponse("/tasks/rules?saved=1", 303)


def calendar_page(request: Request, token: str | None = None) -> Response:
    ctx = ctx_for(request)
    url = f"{str(request.base_url).rstrip('/')}/tasks/feed/{token}.ics" if token else None
    return render(request, "tasks/calendar.html", url=url, has_feed=has_feed(ctx))


def calendar_regenerate(request: Request) -> Response:
    return calendar_page(request, regenerate_feed(ctx_for(request)))
