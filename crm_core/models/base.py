"""Column mixins shared by every table."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from crm_core.db import utcnow


class Timestamped(SQLModel):
    created_at: datetime = Field(default_factory=utcnow, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, nullable=False)


class Versioned(Timestamped):
    """Rows users edit: ``version`` is bumped on every update (optimistic locking)."""

    version: int = Field(default=1, nullable=False)
