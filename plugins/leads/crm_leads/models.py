"""The leads plugin's tables (``leads_…``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, Index, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from crm_core.db import utcnow
from crm_core.models.base import Versioned

LEAD_STATUSES = ("new", "contacted", "qualified", "disqualified", "converted")
OPEN_STATUSES = ("new", "contacted", "qualified")
ACTIONS = ("user", "round_robin", "least_open")


class Lead(Versioned, table=True):
    __tablename__ = "leads_lead"
    __table_args__ = (
        Index("ix_leads_lead_status_created", "status", "created_at"),
        Index("ix_leads_lead_owner_id", "owner_id", "id"),
        # open leads per owner (fewest-open-leads rule, dashboards) from the index alone
        Index("ix_leads_lead_owner_status", "owner_id", "status"),
        Index("ix_leads_lead_source_created", "source", "created_at"),
        Index("ix_leads_lead_converted_customer", "converted_customer_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    company: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=32, index=True)
    email: str | None = Field(default=None, max_length=254, index=True)
    source: str | None = Field(default=None, max_length=32)
    region: str | None = Field(default=None, max_length=32)
    industry: str | None = Field(default=None, max_length=8)
    estimated_value: Decimal | None = Field(default=None, sa_column=Column(Numeric(18, 2)))
    status: str = Field(default="new", max_length=16)
    owner_id: int | None = Field(default=None, foreign_key="crm_user.id", ondelete="SET NULL")
    team_id: int | None = Field(default=None, foreign_key="crm_team.id", ondelete="SET NULL")
    remark: str | None = Field(default=None, max_length=2000)
    custom: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_by_id: int | None = Field(default=None, foreign_key="crm_user.id", ondelete="SET NULL")
    assigned_at: datetime | None = None
    assignment_rule_id: int | None = None
    assignment_reason: str | None = Field(default=None, max_length=500)
    first_contacted_at: datetime | None = None
    converted_at: datetime | None = None
    converted_customer_id: int | None = Field(default=None, foreign_key="crm_customer.id",
                                              ondelete="SET NULL")
    disqualified_reason: str | None = Field(default=None, max_length=500)


class AssignmentRule(Versioned, table=True):
    """One rule of the ordered list. Empty conditions match every lead. ``is_fallback`` rules
    apply only when no ordinary rule matched."""

    __tablename__ = "leads_rule"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    position: int = Field(default=0, index=True)
    active: bool = True
    is_fallback: bool = False
    conditions: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    action: str = Field(default="user", max_length=16)
    user_id: int | None = Field(default=None, foreign_key="crm_user.id", ondelete="SET NULL")
    team_id: int | None = Field(default=None, foreign_key="crm_team.id", ondelete="SET NULL")


class RotationPointer(SQLModel, table=True):
    """Round-robin position of a rule: ``counter`` only grows, in one atomic upsert per hand-out,
    so two workers never hand out the same slot."""

    __tablename__ = "leads_rotation"

    rule_id: int = Field(primary_key=True)
    counter: int = 0
    updated_at: datetime = Field(default_factory=utcnow)


class FormToken(Versioned, table=True):
    """A public web form an admin embeds: its secret token and the source it stamps on leads."""

    __tablename__ = "leads_form_token"

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=64, unique=True)
    label: str = Field(max_length=120)
    source: str = Field(default="website", max_length=32)
    active: bool = True
    rate_limit: int = 5  # submissions per IP per hour
    created_by_id: int | None = Field(default=None, foreign_key="crm_user.id", ondelete="SET NULL")


class FormHit(SQLModel, table=True):
    """Submissions per (form, IP, hour): one atomic upsert per attempt (every worker sees it)."""

    __tablename__ = "leads_form_hit"
    __table_args__ = (UniqueConstraint("token_id", "ip", "hour_key", name="uq_leads_form_hit"),)

    id: int | None = Field(default=None, primary_key=True)
    token_id: int = Field(foreign_key="leads_form_token.id", ondelete="CASCADE")
    ip: str = Field(max_length=64)
    hour_key: str = Field(max_length=16)  # "2024050113" (UTC hour)
    hits: int = 0
