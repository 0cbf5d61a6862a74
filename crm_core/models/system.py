from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from crm_core.db import utcnow
from crm_core.models.base import Timestamped, Versioned

FIELD_TYPES = ("text", "number", "decimal", "date", "choice", "multi_choice", "boolean")


class CustomFieldDefinition(Versioned, table=True):
    __tablename__ = "crm_custom_field"
    __table_args__ = (UniqueConstraint("entity", "key", name="uq_crm_custom_field"),)

    id: int | None = Field(default=None, primary_key=True)
    entity: str = Field(max_length=64)
    key: str = Field(max_length=64)
    label: str = Field(max_length=120)
    label_en: str = Field(default="", max_length=120)
    type: str = Field(max_length=16)
    required: bool = False
    options: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    regex: str | None = Field(default=None, max_length=300)
    min_value: str | None = Field(default=None, max_length=40)
    max_value: str | None = Field(default=None, max_length=40)
    help_text: str = Field(default="", max_length=300)
    position: int = 0
    active: bool = True


class AuditEntry(SQLModel, table=True):
    __tablename__ = "crm_audit"
    __table_args__ = (
        Index("ix_crm_audit_entity", "entity", "entity_id", "id"),
        Index("ix_crm_audit_actor", "actor_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_id: int | None = None
    actor_login: str = Field(default="system", max_length=64)
    interface: str = Field(default="system", max_length=16)
    action: str = Field(max_length=120)
    entity: str = Field(max_length=64)
    entity_id: int | None = None
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    summary: str = Field(default="", max_length=500)


class OutboxEvent(SQLModel, table=True):
    __tablename__ = "crm_outbox"
    __table_args__ = (Index("ix_crm_outbox_status", "status", "available_at"),)

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)
    name: str = Field(max_length=120)
    entity: str = Field(max_length=64)
    entity_id: int | None = None
    actor_id: int | None = None
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=12)  # pending / processing / done
    available_at: datetime = Field(default_factory=utcnow)
    claimed_at: datetime | None = None
    done_at: datetime | None = None


class OutboxRetry(SQLModel, table=True):
    """One plugin's failed delivery of one event, retried with back-off."""

    __tablename__ = "crm_outbox_retry"
    __table_args__ = (
        UniqueConstraint("event_id", "plugin", name="uq_crm_outbox_retry"),
        Index("ix_crm_outbox_retry_due", "dead", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="crm_outbox.id", ondelete="CASCADE")
    plugin: str = Field(max_length=64)
    attempts: int = 1
    next_attempt_at: datetime = Field(default_factory=utcnow)
    last_error: str = Field(default="", max_length=2000)
    dead: bool = False


class PluginState(Timestamped, table=True):
    __tablename__ = "crm_plugin_state"

    name: str = Field(primary_key=True, max_length=64)
    enabled: bool = False
    version: str = Field(default="", max_length=32)
    error: str | None = Field(default=None, max_length=4000)


class KernelMeta(SQLModel, table=True):
    __tablename__ = "crm_meta"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(default="", max_length=2000)


class JobRun(SQLModel, table=True):
    """One scheduled fire of a job; the unique key makes a duplicated fire a no-op."""

    __tablename__ = "crm_job_run"
    __table_args__ = (UniqueConstraint("job_id", "fire_key", name="uq_crm_job_run"),)

    id: int | None = Field(default=None, primary_key=True)
    job_id: str = Field(max_length=120)
    fire_key: str = Field(max_length=64)
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    status: str = Field(default="running", max_length=12)
    error: str | None = Field(default=None, max_length=2000)
    owner: str = Field(default="", max_length=120)


class DueWork(SQLModel, table=True):
    """A unit of due work (a reminder, an SLA check…) claimed atomically by one worker."""

    __tablename__ = "crm_due_work"
    __table_args__ = (
        UniqueConstraint("kind", "key", name="uq_crm_due_work"),
        Index("ix_crm_due_work_due", "status", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=64)
    key: str = Field(max_length=200)
    due_at: datetime
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=12)  # pending / claimed / done / failed
    claimed_by: str | None = Field(default=None, max_length=120)
    claimed_at: datetime | None = None
    done_at: datetime | None = None
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=2000)
