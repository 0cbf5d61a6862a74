from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field

from crm_core.models.base import Versioned

CUSTOMER_TYPES = ("enterprise", "individual")
CUSTOMER_STATUSES = ("potential", "won", "churned")
FOLLOWUP_METHODS = ("phone", "visit", "email", "wechat", "other")


class Customer(Versioned, table=True):
    __tablename__ = "crm_customer"
    __table_args__ = (
        Index("ix_crm_customer_owner_id_id", "owner_id", "id"),
        Index("ix_crm_customer_status_id", "status", "id"),
        Index("ix_crm_customer_updated", "updated_at", "id"),
        Index("ix_crm_customer_last_followup", "status", "last_followup_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True)
    name: str = Field(max_length=200, index=True)
    type: str = Field(default="enterprise", max_length=16)
    industry: str | None = Field(default=None, max_length=8, index=True)
    source: str | None = Field(default=None, max_length=32, index=True)
    status: str = Field(default="potential", max_length=16)
    region: str | None = Field(default=None, max_length=32, index=True)
    owner_id: int | None = Field(default=None, foreign_key="crm_user.id", ondelete="SET NULL")
    first_contact_date: date | None = None
    id_number_enc: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=300)
    website: str | None = Field(default=None, max_length=200)
    remark: str | None = Field(default=None, max_length=2000)
    custom: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_by_id: int | None = Field(default=None, foreign_key="crm_user.id", ondelete="SET NULL")
    last_followup_at: datetime | None = None


class Contact(Versioned, table=True):
    __tablename__ = "crm_contact"
    __table_args__ = (Index("ix_crm_contact_customer", "customer_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="crm_customer.id", ondelete="CASCADE")
    name: str = Field(max_length=120)
    title: str | None = Field(default=None, max_length=120)
    is_primary: bool = Field(default=False)
    phone_enc: str | None = Field(default=None, max_length=200)
    phone_bidx: str | None = Field(default=None, max_length=64, index=True)
    email: str | None = Field(default=None, max_length=254, index=True)
    id_number_enc: str | None = Field(default=None, max_length=200)
    wechat: str | None = Field(default=None, max_length=64)
    remark: str | None = Field(default=None, max_length=2000)
    custom: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class FollowUp(Versioned, table=True):
    __tablename__ = "crm_followup"
    __table_args__ = (
        Index("ix_crm_followup_customer_at", "customer_id", "occurred_at"),
        Index("ix_crm_followup_due", "next_step_due"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="crm_customer.id", ondelete="CASCADE")
    contact_id: int | None = Field(default=None, foreign_key="crm_contact.id", ondelete="SET NULL")
    user_id: int | None = Field(default=None, foreign_key="crm_user.id", ondelete="SET NULL")
    method: str = Field(default="phone", max_length=16)
    occurred_at: datetime
    content: str = Field(max_length=5000)
    feedback: str | None = Field(default=None, max_length=2000)
    next_step: str | None = Field(default=None, max_length=1000)
    next_step_due: date | None = None


class CodeSequence(Versioned, table=True):
    """Per-prefix counters for human codes such as ``C20240501001``."""

    __tablename__ = "crm_code_sequence"

    prefix: str = Field(primary_key=True, max_length=32)
    last: int = Field(default=0)
