"""Input and output models of the pipeline services (the API reuses them)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from crm_pipeline.models import MILESTONES, STATUSES

MAX_AMOUNT = Decimal("9999999999999999.99")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _amount(v: Any) -> Decimal | None:
    if v is None:
        return None
    if isinstance(v, float):
        v = repr(v)
    try:
        d = Decimal(str(v).strip().replace(",", ""))
    except ArithmeticError:
        raise ValueError("not a number") from None
    if not d.is_finite():
        raise ValueError("not a number")
    if d < 0:
        raise ValueError("must not be negative")
    if d > MAX_AMOUNT:
        raise ValueError("too large")
    if d != d.quantize(Decimal("0.01")):
        raise ValueError("at most 2 decimal places")
    return d.quantize(Decimal("0.01"))


def _currency(v: str | None) -> str | None:
    if v is None:
        return None
    v = v.strip().upper()
    if len(v) != 3 or not v.isalpha():
        raise ValueError("a 3-letter currency code such as CNY")
    return v


def _probability(v: int | None) -> int | None:
    if v is not None and not 0 <= v <= 100:
        raise ValueError("between 0 and 100")
    return v


class OpportunityCreate(_In):
    customer_id: int
    name: str = Field(min_length=1, max_length=200)
    amount: Decimal = Decimal("0")
    currency: str = "CNY"
    pipeline: str | None = None  # pipeline key, default: the default pipeline
    stage: str | None = None  # stage key, default: the pipeline's first stage
    probability: int | None = None  # default: the stage's
    owner_id: int | None = None  # default: the acting user
    expected_close: date | None = None
    description: str | None = Field(default=None, max_length=4000)
    custom: dict[str, Any] = {}

    _a = field_validator("amount", mode="before")(lambda v: _amount(v if v not in ("", None) else 0))
    _c = field_validator("currency")(_currency)
    _p = field_validator("probability")(_probability)


class OpportunityUpdate(_In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    amount: Decimal | None = None
    currency: str | None = None
    probability: int | None = None  # null resets to the stage default
    owner_id: int | None = None
    expected_close: date | None = None
    description: str | None = Field(default=None, max_length=4000)
    custom: dict[str, Any] | None = None

    _a = field_validator("amount", mode="before")(_amount)
    _c = field_validator("currency")(_currency)
    _p = field_validator("probability")(_probability)


class MoveIn(_In):
    stage: str = Field(min_length=1, max_length=40)
    lost_reason: str | None = Field(default=None, max_length=1000)


class LoseIn(_In):
    reason: str = Field(min_length=1, max_length=1000)


class ApprovalRequestIn(_In):
    comment: str | None = Field(default=None, max_length=1000)


class ApprovalDecisionIn(_In):
    approve: bool
    comment: str | None = Field(default=None, max_length=1000)


class MilestoneIn(_In):
    key: str
    done: bool

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        if v not in MILESTONES:
            raise ValueError(f"one of {', '.join(MILESTONES)}")
        return v


class OpportunityQuery(_In):
    """Allow-listed filters and sorts of opportunity lists."""

    q: str | None = Field(default=None, max_length=100)
    status: str | None = None
    stage: str | None = None  # stage key
    pipeline: str | None = None
    owner: str | None = None  # "me" or a user id
    team: int | None = None
    customer_id: int | None = None
    approval: str | None = None  # "pending"
    close_from: date | None = None
    close_to: date | None = None
    min_amount: Decimal | None = None
    sort: str = "-id"
    cursor: str | None = None
    limit: int | None = None

    @field_validator("status")
    @classmethod
    def _status(cls, v: str | None) -> str | None:
        if v and v not in STATUSES:
            raise ValueError(f"one of {', '.join(STATUSES)}")
        return v or None


class StageIn(_In):
    key: str = Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1, max_length=100)
    name_en: str = Field(default="", max_length=100)
    probability: int = 0
    kind: str = "open"
    position: int | None = None

    _p = field_validator("probability")(_probability)

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        if v not in STATUSES:
            raise ValueError("one of open, won, lost")
        return v


class StageUpdate(_In):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    name_en: str | None = Field(default=None, max_length=100)
    probability: int | None = None
    position: int | None = None
    active: bool | None = None

    _p = field_validator("probability")(_probability)


class PipelineIn(_In):
    key: str = Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1, max_length=100)
    name_en: str = Field(default="", max_length=100)
    approval_threshold: Decimal | None = None
    is_default: bool = False

    _a = field_validator("approval_threshold", mode="before")(
        lambda v: _amount(v) if v not in ("", None) else None)


class PipelineUpdate(_In):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    name_en: str | None = Field(default=None, max_length=100)
    approval_threshold: Decimal | None = None
    is_default: bool | None = None

    _a = field_validator("approval_threshold", mode="before")(
        lambda v: _amount(v) if v not in ("", None) else None)


# --- outputs -----------------------------------------------------------------------------
class StageRead(BaseModel):
    id: int
    pipeline_id: int
    key: str
    name: str
    name_en: str
    probability: int
    position: int
    kind: str
    active: bool


class PipelineRead(BaseModel):
    id: int
    key: str
    name: str
    name_en: str
    is_default: bool
    approval_threshold: Decimal | None
    version: int
    stages: list[StageRead] = []


class OpportunityRead(BaseModel):
    id: int
    customer_id: int
    pipeline_id: int
    stage_id: int
    stage: str  # stage key
    name: str
    amount: Decimal
    currency: str
    probability: int
    probability_overridden: bool
    status: str
    owner_id: int | None
    expected_close: date | None
    stage_entered_at: datetime | None
    closed_at: datetime | None
    closed_on: date | None
    lost_reason: str | None
    approval_status: str
    milestones: dict[str, Any]
    description: str | None
    custom: dict[str, Any]
    created_by_id: int | None
    version: int
    created_at: datetime
    updated_at: datetime


class HistoryRead(BaseModel):
    id: int
    stage_id: int
    stage: str
    from_stage_id: int | None
    actor_id: int | None
    entered_at: datetime
    left_at: datetime | None
    seconds_in_stage: int | None


class ApprovalRead(BaseModel):
    id: int
    opportunity_id: int
    amount: Decimal
    status: str
    requested_by_id: int | None
    request_comment: str | None
    decided_by_id: int | None
    decided_at: datetime | None
    comment: str | None
    created_at: datetime
