"""Column mixins shared by every table, and typed accessors SQLModel's hints lack."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Table
from sqlalchemy.orm import Mapped
from sqlmodel import Field, SQLModel

from crm_core.db import utcnow


class Timestamped(SQLModel):
    created_at: datetime = Field(default_factory=utcnow, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, nullable=False)


class Versioned(Timestamped):
    """Rows users edit: ``version`` is bumped on every update (optimistic locking)."""

    version: int = Field(default=1, nullable=False)


class _HasId(Protocol):
    @property
    def id(self) -> int | None: ...


def row_id(row: _HasId) -> int:
    """``row.id`` of a row that was loaded or flushed; only a row not yet flushed has no id."""
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has no id before it is flushed")
    return row.id


def id_col(model: type[Any]) -> Mapped[int]:
    """``Model.id`` as a column: typed ``int`` because a stored row always has one (the attribute
    is ``int | None`` only on a row not yet flushed)."""
    column: Mapped[int] = model.id
    return column


def table_of(model: type[Any]) -> Table:
    """The Core ``Table`` of a SQLModel table class (``Model.__table__``, which SQLModel's type
    hints do not declare)."""
    table: Table = model.__table__
    return table
