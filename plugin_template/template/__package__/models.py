"""The plugin's table. Every table name starts with the plugin name."""

from __future__ import annotations

from datetime import datetime

from crm_core.models.base import Versioned
from sqlmodel import Field

STATUSES = ("open", "closed")


class Item(Versioned, table=True):
    __tablename__ = "[[ name ]]_item"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="crm_customer.id", ondelete="CASCADE", index=True)
    owner_id: int | None = Field(default=None, foreign_key="crm_user.id", ondelete="SET NULL", index=True)
    title: str = Field(max_length=200)
    status: str = Field(default="open", max_length=16, index=True)
    closed_at: datetime | None = None
