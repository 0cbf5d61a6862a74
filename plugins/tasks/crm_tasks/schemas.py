"""Input and output models of the tasks API (validated; table models do not validate)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Related = Literal["customer", "leads.lead", "pipeline.opportunity"]
Unit = Literal["day", "week", "month"]


def _title(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        raise ValueError("cannot be empty")
    return value


class TaskCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(max_length=200)
    due_at: datetime = Field(description="when it is due; without a zone: your time zone")
    assignee_id: int | None = Field(default=None, ge=1, description="default: you")
    notes: str | None = Field(default=None, max_length=2000)
    related_entity: Related | None = None
    related_id: int | None = Field(default=None, ge=1)
    recurrence_every: int | None = Field(default=None, ge=1, le=365,
                                         description="repeat every N units after completion")
    recurrence_unit: Unit | None = None

    _t = field_validator("title")(_title)


class TaskUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, max_length=200)
    due_at: datetime | None = None
    assignee_id: int | None = Field(default=None, ge=1)
    notes: str | None = Field(default=None, max_length=2000)
    related_entity: Related | None = None
    related_id: int | None = Field(default=None, ge=1)
    recurrence_every: int | None = Field(default=None, ge=1, le=365)
    recurrence_unit: Unit | None = None

    _t = field_validator("title")(_title)


class TaskRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    notes: str | None
    due_at: datetime
    assignee_id: int
    related_entity: str | None
    related_id: int | None
    done_at: datetime | None
    completed_by_id: int | None
    recurrence_every: int | None
    recurrence_unit: str | None
    source: str
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime
    version: int


class RuleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    plugin: str
    label: str
    label_en: str
    unit: str
    threshold: int
    enabled: bool
    version: int


class RuleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    threshold: int | None = Field(default=None, ge=1, le=365)
    enabled: bool | None = None
