"""The tasks plugin's services (its public API for other plugins)."""

from __future__ import annotations

from crm_tasks.services.tasks import (
    complete_task,
    create_task,
    delete_task,
    get_task,
    list_tasks,
    reopen_task,
    update_task,
)

__all__ = ["complete_task", "create_task", "delete_task", "get_task", "list_tasks", "reopen_task",
           "update_task"]
