"""In-app notifications (站内通知): one row per recipient and dedup key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from crm_core.db import utcnow


class Notification(SQLModel, table=True):
    __tablename__ = "crm_notification"
    __table_args__ = (
        UniqueConstraint("user_id", "dedup_key", name="uq_crm_notification_dedup"),
        Index("ix_crm_notification_user", "user_id", "id"),
        Index("ix_crm_notification_unread", "user_id", "read_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, nullable=False)
    user_id: int = Field(foreign_key="crm_user.id", ondelete="CASCADE")
    kind: str = Field(max_length=64)
    title: str = Field(max_length=200)
    body: str = Field(default="", max_length=2000)
    url: str = Field(default="", max_length=500)
    dedup_key: str = Field(max_length=200)
    read_at: datetime | None = None
    emailed_at: datetime | None = None
