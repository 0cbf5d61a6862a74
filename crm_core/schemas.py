"""Input and output models of the kernel's services (and of the API, which reuses them).

Table models don't validate on construction; these do. Inputs forbid unknown fields, so owner,
role, code and version fields can never be mass-assigned.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from crm_core.models.customers import CUSTOMER_STATUSES, CUSTOMER_TYPES, FOLLOWUP_METHODS
from crm_core.normalize import (
    FormatError,
    normalize_email,
    normalize_id_number,
    normalize_name,
    normalize_phone,
)

# GB/T 4754-2017 sections (门类)
INDUSTRIES: dict[str, tuple[str, str]] = {
    "A": ("农、林、牧、渔业", "Agriculture, forestry, animal husbandry and fishery"),
    "B": ("采矿业", "Mining"),
    "C": ("制造业", "Manufacturing"),
    "D": ("电力、热力、燃气及水生产和供应业", "Utilities"),
    "E": ("建筑业", "Construction"),
    "F": ("批发和零售业", "Wholesale and retail"),
    "G": ("交通运输、仓储和邮政业", "Transport, storage and post"),
    "H": ("住宿和餐饮业", "Accommodation and catering"),
    "I": ("信息传输、软件和信息技术服务业", "Information technology"),
    "J": ("金融业", "Finance"),
    "K": ("房地产业", "Real estate"),
    "L": ("租赁和商务服务业", "Leasing and business services"),
    "M": ("科学研究和技术服务业", "Research and technical services"),
    "N": ("水利、环境和公共设施管理业", "Water, environment and public facilities"),
    "O": ("居民服务、修理和其他服务业", "Resident and repair services"),
    "P": ("教育", "Education"),
    "Q": ("卫生和社会工作", "Health and social work"),
    "R": ("文化、体育和娱乐业", "Culture, sports and entertainment"),
    "S": ("公共管理、社会保障和社会组织", "Public administration"),
    "T": ("国际组织", "International organisations"),
}
SOURCES = ("trade_show", "website", "referral", "cold_call", "advertising", "partner", "import",
           "other")
REGIONS = ("华东", "华南", "华北", "华中", "西南", "西北", "东北", "港澳台", "海外")


def _phone(v: str | None) -> str | None:
    if v is None or not str(v).strip():
        return None
    try:
        return normalize_phone(str(v))
    except FormatError as exc:
        raise ValueError(str(exc)) from None


def _email(v: str | None) -> str | None:
    if v is None or not str(v).strip():
        return None
    try:
        return normalize_email(str(v))
    except FormatError as exc:
        raise ValueError(str(exc)) from None


def _id_number(v: str | None) -> str | None:
    if v is None or not str(v).strip():
        return None
    try:
        return normalize_id_number(str(v))
    except FormatError as exc:
        raise ValueError(str(exc)) from None


def _choice(v: str | None, allowed: tuple[str, ...] | dict[str, Any], what: str) -> str | None:
    if v is None or v == "":
        return None
    if v not in allowed:
        raise ValueError(f"unknown {what} {v!r}; one of {', '.join(allowed)}")
    return v


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ContactIn(_In):
    name: str = Field(min_length=1, max_length=120)
    title: str | None = Field(default=None, max_length=120)
    is_primary: bool = False
    phone: str | None = None
    email: str | None = None
    id_number: str | None = None
    wechat: str | None = Field(default=None, max_length=64)
    remark: str | None = Field(default=None, max_length=2000)
    custom: dict[str, Any] = {}

    _n = field_validator("name")(lambda v: normalize_name(v))
    _p = field_validator("phone")(_phone)
    _e = field_validator("email")(_email)
    _i = field_validator("id_number")(_id_number)


class ContactCreate(ContactIn):
    customer_id: int


class ContactUpdate(_In):
    # the same limits as on create: past them the database refuses the value (PostgreSQL)
    name: str | None = Field(default=None, min_length=1, max_length=120)
    title: str | None = Field(default=None, max_length=120)
    is_primary: bool | None = None
    phone: str | None = None
    email: str | None = None
    id_number: str | None = None
    wechat: str | None = Field(default=None, max_length=64)
    remark: str | None = Field(default=None, max_length=2000)
    custom: dict[str, Any] | None = None

    _n = field_validator("name")(lambda v: normalize_name(v) if v is not None else None)
    _p = field_validator("phone")(_phone)
    _e = field_validator("email")(_email)
    _i = field_validator("id_number")(_id_number)


class CustomerIn(_In):
    name: str = Field(min_length=1, max_length=200)
    type: str = "enterprise"
    industry: str | None = None
    source: str | None = None
    status: str = "potential"
    region: str | None = Field(default=None, max_length=32)
    first_contact_date: date | None = None
    id_number: str | None = None
    address: str | None = Field(default=None, max_length=300)
    website: str | None = Field(default=None, max_length=200)
    remark: str | None = Field(default=None, max_length=2000)
    custom: dict[str, Any] = {}

    _n = field_validator("name")(lambda v: normalize_name(v))
    _t = field_validator("type")(lambda v: _choice(v, CUSTOMER_TYPES, "type"))
    _s = field_validator("status")(lambda v: _choice(v, CUSTOMER_STATUSES, "status"))
    _ind = field_validator("industry")(lambda v: _choice(v, INDUSTRIES, "industry"))
    _src = field_validator("source")(lambda v: _choice(v, SOURCES, "source"))
    _i = field_validator("id_number")(_id_number)


class CustomerCreate(CustomerIn):
    contacts: list[ContactIn] = []


class CustomerUpdate(_In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    type: str | None = None
    industry: str | None = None
    source: str | None = None
    status: str | None = None
    region: str | None = Field(default=None, max_length=32)
    first_contact_date: date | None = None
    id_number: str | None = None
    address: str | None = Field(default=None, max_length=300)
    website: str | None = Field(default=None, max_length=200)
    remark: str | None = Field(default=None, max_length=2000)
    custom: dict[str, Any] | None = None

    _t = field_validator("type")(lambda v: _choice(v, CUSTOMER_TYPES, "type"))
    _s = field_validator("status")(lambda v: _choice(v, CUSTOMER_STATUSES, "status"))
    _ind = field_validator("industry")(lambda v: _choice(v, INDUSTRIES, "industry"))
    _src = field_validator("source")(lambda v: _choice(v, SOURCES, "source"))
    _i = field_validator("id_number")(_id_number)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str | None) -> str | None:
        return normalize_name(v) if v is not None else None


class FollowUpCreate(_In):
    customer_id: int
    contact_id: int | None = None
    method: str = "phone"
    occurred_at: datetime | None = None  # default: now
    content: str = Field(min_length=1, max_length=5000)
    feedback: str | None = Field(default=None, max_length=2000)
    next_step: str | None = Field(default=None, max_length=1000)
    next_step_due: date | None = None

    _m = field_validator("method")(lambda v: _choice(v, FOLLOWUP_METHODS, "method"))


class FollowUpUpdate(_In):
    method: str | None = None
    occurred_at: datetime | None = None
    content: str | None = Field(default=None, min_length=1, max_length=5000)
    feedback: str | None = Field(default=None, max_length=2000)
    next_step: str | None = Field(default=None, max_length=1000)
    next_step_due: date | None = None

    _m = field_validator("method")(lambda v: _choice(v, FOLLOWUP_METHODS, "method"))


# --- outputs -----------------------------------------------------------------------------
class ContactRead(BaseModel):
    id: int
    customer_id: int
    name: str
    title: str | None
    is_primary: bool
    phone: str | None  # national form, masked unless the actor may see phones
    phone_masked: bool
    email: str | None
    id_number: str | None
    wechat: str | None
    remark: str | None
    custom: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime


class CustomerRead(BaseModel):
    id: int
    code: str
    name: str
    type: str
    industry: str | None
    source: str | None
    status: str
    region: str | None
    owner_id: int | None
    first_contact_date: date | None
    id_number: str | None
    address: str | None
    website: str | None
    remark: str | None
    custom: dict[str, Any]
    last_followup_at: datetime | None
    created_by_id: int | None
    version: int
    created_at: datetime
    updated_at: datetime


class FollowUpRead(BaseModel):
    id: int
    customer_id: int
    contact_id: int | None
    user_id: int | None
    method: str
    occurred_at: datetime
    content: str
    feedback: str | None
    next_step: str | None
    next_step_due: date | None
    version: int
    created_at: datetime
    updated_at: datetime


class CustomerQuery(_In):
    """Allow-listed filters and sorts for customer lists, searches and exports."""

    q: str | None = None
    owner: str | None = None  # "me" or a user id
    team: int | None = None
    status: str | None = None
    industry: str | None = None
    region: str | None = None
    source: str | None = None
    created_from: date | None = None
    created_to: date | None = None
    custom: dict[str, Any] = {}
    sort: str = "-id"
    cursor: str | None = None
    limit: int | None = None

    _s = field_validator("status")(lambda v: _choice(v, CUSTOMER_STATUSES, "status"))
    _ind = field_validator("industry")(lambda v: _choice(v, INDUSTRIES, "industry"))
    _src = field_validator("source")(lambda v: _choice(v, SOURCES, "source"))
