"""Input and output models of the leads services (and of the API, which reuses them)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from crm_core.normalize import normalize_name
from crm_core.schemas import INDUSTRIES, REGIONS, SOURCES, _choice, _email, _phone
from crm_leads.models import ACTIONS, LEAD_STATUSES

MAX_VALUE = Decimal("9999999999999999.99")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _value(v: Any) -> Decimal | None:
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    try:
        d = Decimal(str(v).replace(",", "").replace("，", "").strip())
    except ArithmeticError:
        raise ValueError("must be a number") from None
    if not d.is_finite():
        raise ValueError("must be a number")
    if d < 0:
        raise ValueError("must be at least 0")
    if d > MAX_VALUE:
        raise ValueError(f"must be at most {MAX_VALUE}")
    return d.quantize(Decimal("0.01"))


class LeadIn(_In):
    name: str = Field(min_length=1, max_length=120)
    company: str | None = Field(default=None, max_length=200)
    phone: str | None = None
    email: str | None = None
    source: str | None = None
    region: str | None = None
    industry: str | None = None
    estimated_value: Decimal | None = None
    remark: str | None = Field(default=None, max_length=2000)
    custom: dict[str, Any] = {}

    _n = field_validator("name")(lambda v: normalize_name(v))
    _c = field_validator("company")(lambda v: normalize_name(v) or None if v is not None else None)
    _p = field_validator("phone")(_phone)
    _e = field_validator("email")(_email)
    _s = field_validator("source")(lambda v: _choice(v, SOURCES, "source"))
    _r = field_validator("region")(lambda v: _choice(v, REGIONS, "region"))
    _i = field_validator("industry")(lambda v: _choice(v, INDUSTRIES, "industry"))
    _v = field_validator("estimated_value", mode="before")(_value)


class LeadCreate(LeadIn):
    pass


class LeadUpdate(_In):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    company: str | None = Field(default=None, max_length=200)
    phone: str | None = None
    email: str | None = None
    source: str | None = None
    region: str | None = None
    industry: str | None = None
    estimated_value: Decimal | None = None
    status: str | None = None
    remark: str | None = Field(default=None, max_length=2000)
    disqualified_reason: str | None = Field(default=None, max_length=500)
    custom: dict[str, Any] | None = None

    _n = field_validator("name")(lambda v: normalize_name(v) if v is not None else None)
    _p = field_validator("phone")(_phone)
    _e = field_validator("email")(_email)
    _s = field_validator("source")(lambda v: _choice(v, SOURCES, "source"))
    _r = field_validator("region")(lambda v: _choice(v, REGIONS, "region"))
    _i = field_validator("industry")(lambda v: _choice(v, INDUSTRIES, "industry"))
    _st = field_validator("status")(
        lambda v: _choice(v, tuple(s for s in LEAD_STATUSES if s != "converted"), "status"))
    _v = field_validator("estimated_value", mode="before")(_value)


class LeadRead(BaseModel):
    id: int
    name: str
    company: str | None
    phone: str | None  # masked (138****5678) unless the role may see phones
    email: str | None
    source: str | None
    region: str | None
    industry: str | None
    estimated_value: Decimal | None
    status: str
    owner_id: int | None
    team_id: int | None
    remark: str | None
    custom: dict[str, Any]
    assignment_rule_id: int | None
    assignment_reason: str | None
    assigned_at: datetime | None
    first_contacted_at: datetime | None
    converted_at: datetime | None
    converted_customer_id: int | None
    disqualified_reason: str | None
    created_at: datetime
    updated_at: datetime
    version: int


class LeadQuery(_In):
    q: str | None = Field(default=None, max_length=200)
    status: str | None = None
    source: str | None = None
    region: str | None = None
    industry: str | None = None
    owner: str | None = Field(default=None, max_length=20)  # "me", "none" or a user id
    cursor: str | None = Field(default=None, max_length=500)
    limit: int | None = None

    _st = field_validator("status")(lambda v: _choice(v, LEAD_STATUSES, "status"))
    _s = field_validator("source")(lambda v: _choice(v, SOURCES, "source"))
    _r = field_validator("region")(lambda v: _choice(v, REGIONS, "region"))
    _i = field_validator("industry")(lambda v: _choice(v, INDUSTRIES, "industry"))


class Conditions(_In):
    """All given conditions must hold; a list matches any of its values."""

    regions: list[str] = []
    industries: list[str] = []
    sources: list[str] = []
    value_min: Decimal | None = None
    value_max: Decimal | None = None
    custom: dict[str, str] = {}

    @field_validator("regions")
    @classmethod
    def _regions(cls, v: list[str]) -> list[str]:
        return [x for x in (_choice(r, REGIONS, "region") for r in v) if x]

    @field_validator("industries")
    @classmethod
    def _industries(cls, v: list[str]) -> list[str]:
        return [x for x in (_choice(r, INDUSTRIES, "industry") for r in v) if x]

    @field_validator("sources")
    @classmethod
    def _sources(cls, v: list[str]) -> list[str]:
        return [x for x in (_choice(r, SOURCES, "source") for r in v) if x]

    _vmin = field_validator("value_min", mode="before")(_value)
    _vmax = field_validator("value_max", mode="before")(_value)


class RuleIn(_In):
    name: str = Field(min_length=1, max_length=120)
    active: bool = True
    is_fallback: bool = False
    conditions: Conditions = Conditions()
    action: str = "user"
    user_id: int | None = None
    team_id: int | None = None
    position: int | None = None

    _a = field_validator("action")(lambda v: _choice(v, ACTIONS, "action") or "user")


class RuleRead(BaseModel):
    id: int
    name: str
    position: int
    active: bool
    is_fallback: bool
    conditions: dict[str, Any]
    action: str
    user_id: int | None
    team_id: int | None
    version: int


class ConvertIn(_In):
    """Convert a lead: link to ``customer_id`` (an existing customer offered as a match) or
    create a new customer (``customer_name`` defaults to the company, else the lead's name).
    ``options`` carries the fields glue plugins add (``lead_conversion_fields``)."""

    customer_id: int | None = None
    customer_name: str | None = Field(default=None, max_length=200)
    options: dict[str, Any] = {}


class ConvertResult(BaseModel):
    lead_id: int
    customer_id: int
    contact_id: int | None
    created_customer: bool
    extra: dict[str, Any] = {}
