"""The tasks plugin's tables (``tasks_…``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field

from crm_core.models.base import Timestamped, Versioned

RELATED = ("customer", "leads.lead", "pipeline.opportunity")
UNITS = ("day", "week", "month")


class Task(Versioned, table=True):
    """A follow-up task. ``source_key`` (unique) makes automatic creation idempotent: a
    follow-up's next step, a rule's reminder or the next occurrence of a recurring task is
    created once however often its trigger fires."""

    __tablename__ = "tasks_task"
    __table_args__ = (
        Index("ix_tasks_task_assignee_open", "assignee_id", "done_at", "due_at"),
        Index("ix_tasks_task_related", "related_entity", "related_id"),
        Index("ix_tasks_task_due", "due_at", "id"),
        UniqueConstraint("source_key", name="uq_tasks_task_source"),
    )

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    notes: str | None = Field(default=None, max_length=2000)
    due_at: datetime
    assignee_id: int = Field(foreign_key="crm_user.id", ondelete="CASCADE")
    related_entity: str | None = Field(default=None, max_length=32)
    related_id: int | None = None
    done_at: datetime | None = None
    completed_by_id: int | None = Field(default=None, foreign_key="crm_user.id", ondelete="SET NULL")
    recurrence_every: int | None = None
    recurrence_unit: str | None = Field(default=None, max_length=8)
    source: str = Field(default="manual", max_length=32)
    source_key: str | None = Field(default=None, max_length=200)
    created_by_id: int | None = Field(default=None, foreign_key="crm_user.id", ondelete="SET NULL")


class ReminderRule(Versioned, table=True):
    """A reminder rule an administrator switches on and tunes (``threshold`` in ``unit``).
    Rows are added by the plugin that implements the rule (``plugin``)."""

    __tablename__ = "tasks_rule"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64, unique=True)
    plugin: str = Field(default="tasks", max_length=64)
    label: str = Field(max_length=200)
    label_en: str = Field(default="", max_length=200)
    unit: str = Field(default="days", max_length=8)  # days / hours
    threshold: int = 3
    enabled: bool = True


class CalendarFeed(Timestamped, table=True):
    """A user's secret iCalendar feed: only the SHA-256 of the secret is stored."""

    __tablename__ = "tasks_calendar"

    user_id: int = Field(foreign_key="crm_user.id", primary_key=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64)
