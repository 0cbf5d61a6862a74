"""The pipeline plugin's tables: pipelines, stages, opportunities, stage history, approvals."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Dialect, Index, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field

from crm_core.models.base import Timestamped, Versioned

STATUSES = ("open", "won", "lost")
STAGE_KINDS = ("open", "won", "lost")
APPROVAL_STATUSES = ("none", "pending", "approved", "rejected")
# REQUIREMENTS: pipeline nodes lead → needs confirmed → quote → contract → payment received
MILESTONES = ("lead", "needs_confirmed", "quote", "contract", "payment_received")
CENT = Decimal("0.01")


class Money(TypeDecorator[Decimal]):
    """A ``Decimal`` amount stored as whole cents (fen) in a BIGINT: exact on SQLite and
    PostgreSQL alike, and ``SUM`` stays exact (SQLite has no decimal type)."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        return int((Decimal(value) * 100).to_integral_value())

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(int(value)) / 100).quantize(CENT)


def cents(value: Any) -> Decimal:
    """A SQL aggregate over a ``Money`` column taken as a raw number of cents → Decimal."""
    return (Decimal(int(value or 0)) / 100).quantize(CENT)


class Pipeline(Versioned, table=True):
    __tablename__ = "pipeline_pipeline"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=100)
    name_en: str = Field(default="", max_length=100)
    is_default: bool = Field(default=False)
    # opportunities of this pipeline with an amount above this need a manager's approval to win
    approval_threshold: Decimal | None = Field(default=None, sa_column=Column(Money(), nullable=True))


class Stage(Versioned, table=True):
    __tablename__ = "pipeline_stage"
    __table_args__ = (UniqueConstraint("pipeline_id", "key", name="uq_pipeline_stage_key"),)

    id: int | None = Field(default=None, primary_key=True)
    pipeline_id: int = Field(foreign_key="pipeline_pipeline.id", ondelete="CASCADE", index=True)
    key: str = Field(max_length=40)
    name: str = Field(max_length=100)
    name_en: str = Field(default="", max_length=100)
    probability: int = Field(default=0)
    position: int = Field(default=0)
    kind: str = Field(default="open", max_length=8)  # open / won / lost
    active: bool = Field(default=True)


class Opportunity(Versioned, table=True):
    __tablename__ = "pipeline_opportunity"
    __table_args__ = (
        Index("ix_pipeline_opportunity_owner_id_id", "owner_id", "id"),
        Index("ix_pipeline_opportunity_customer_id", "customer_id", "id"),
        Index("ix_pipeline_opportunity_stage_id", "stage_id", "id"),
        Index("ix_pipeline_opportunity_status_closed", "status", "closed_on"),
        Index("ix_pipeline_opportunity_expected_close", "expected_close", "id"),
        Index("ix_pipeline_opportunity_approval", "approval_status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="crm_customer.id", ondelete="CASCADE")
    pipeline_id: int = Field(foreign_key="pipeline_pipeline.id")
    stage_id: int = Field(foreign_key="pipeline_stage.id")
    name: str = Field(max_length=200)
    amount: Decimal = Field(default=Decimal("0"), sa_column=Column(Money(), nullable=False))
    currency: str = Field(default="CNY", max_length=3)
    probability: int = Field(default=0)
    probability_overridden: bool = Field(default=False)
    status: str = Field(default="open", max_length=8)
    owner_id: int | None = Field(default=None, foreign_key="crm_user.id", ondelete="SET NULL")
    expected_close: date | None = None
    stage_entered_at: datetime | None = None
    closed_at: datetime | None = None
    closed_on: date | None = None  # the local date of closed_at (forecast months)
    lost_reason: str | None = Field(default=None, max_length=1000)
    approval_status: str = Field(default="none", max_length=10)
    milestones: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    description: str | None = Field(default=None, max_length=4000)
    custom: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_by_id: int | None = Field(default=None, foreign_key="crm_user.id", ondelete="SET NULL")


class StageHistory(Timestamped, table=True):
    __tablename__ = "pipeline_stage_history"
    __table_args__ = (Index("ix_pipeline_stage_history_opp", "opportunity_id", "entered_at"),)

    id: int | None = Field(default=None, primary_key=True)
    opportunity_id: int = Field(foreign_key="pipeline_opportunity.id", ondelete="CASCADE")
    stage_id: int = Field(foreign_key="pipeline_stage.id")
    from_stage_id: int | None = Field(default=None, foreign_key="pipeline_stage.id")
    actor_id: int | None = Field(default=None, foreign_key="crm_user.id", ondelete="SET NULL")
    entered_at: datetime
    left_at: datetime | None = None


class Approval(Timestamped, table=True):
    __tablename__ = "pipeline_approval"
    __table_args__ = (Index("ix_pipeline_approval_opp", "opportunity_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    opportunity_id: int = Field(foreign_key="pipeline_opportunity.id", ondelete="CASCADE")
    amount: Decimal = Field(sa_column=Column(Money(), nullable=False))
    status: str = Field(default="pending", max_length=10)  # pending/approved/rejected/cancelled
    requested_by_id: int | None = Field(default=None, foreign_key="crm_user.id", ondelete="SET NULL")
    request_comment: str | None = Field(default=None, max_length=1000)
    decided_by_id: int | None = Field(default=None, foreign_key="crm_user.id", ondelete="SET NULL")
    decided_at: datetime | None = None
    comment: str | None = Field(default=None, max_length=1000)
