"""Due reminders: when a task falls due its assignee is notified — once per task and due time,
even if the job fires twice or two workers run (due-work rows claimed atomically, and the
notification's dedup key)."""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING

from crm_core.duework import run_due
from crm_core.models import DueWork, User
from crm_core.services.notifications import notify
from crm_tasks.models import Task
from crm_tasks.services.tasks import DUE_KIND

if TYPE_CHECKING:
    from crm_core.kernel import Kernel


def _remind(kernel: Kernel, row: DueWork) -> None:
    ctx = kernel.ctx()
    with ctx.uow() as s:
        task = s.get(Task, int(row.payload.get("id", 0)))
        if task is None or task.done_at is not None:
            return
        due = task.due_at if task.due_at.tzinfo else task.due_at.replace(tzinfo=UTC)
        if not row.key.endswith(due.isoformat()):
            return  # moved since: the row for the new due time reminds
        assignee = s.get(User, task.assignee_id)
        locale = assignee.locale if assignee is not None else kernel.settings.default_locale
        prefix = "Task due: " if locale == "en" else "任务到期："
        notify(ctx, task.assignee_id, "tasks.due", f"{prefix}{task.title}", body=task.notes or "",
               url=f"/tasks/#task-{task.id}", dedup_key=f"tasks.due:{task.id}:{due.isoformat()}")


def send_due_reminders(kernel: Kernel, limit: int = 200) -> int:
    return run_due(kernel, DUE_KIND, lambda row: _remind(kernel, row), limit=limit)
