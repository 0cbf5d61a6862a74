"""The models of the JSON API: what it validates (path, query, body) and what it answers.

Inputs reuse the services' models (``crm_core.schemas``…); where one would let a value through
that the database can't hold (an id past 32 bits, a time before 1900 that can't be moved to
UTC), the API narrows it in a subclass of the same name, so the service still gets an instance
of its own model. Query models list every parameter an endpoint takes: nothing else is accepted.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from crm_core import schemas
from crm_core.context import INTERFACES
from crm_core.declarations import SCOPES
from crm_core.models.customers import CUSTOMER_STATUSES
from crm_core.schemas import INDUSTRIES, SOURCES, ContactRead, CustomerRead, FollowUpRead
from crm_core.services import custom_fields as fields_svc
from crm_core.services import users as users_svc
from crm_core.services.base import MAX_LIMIT
from crm_core.services.customers import SORTS as CUSTOMER_SORTS

T = TypeVar("T")
INT32_MAX = 2**31 - 1
LOGIN_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,63}$"
ROLE_PATTERN = r"^[a-z0-9_]{1,64}$"
PLUGIN_PATTERN = r"^[a-z][a-z0-9_]{1,39}$"
EARLIEST = date(1900, 1, 1)
LATEST = date(9998, 12, 31)

Id = Annotated[int, Field(ge=1, le=INT32_MAX)]
Login = Annotated[str, Field(pattern=LOGIN_PATTERN)]
Day = Annotated[date, Field(ge=EARLIEST, le=LATEST)]


def _one_of(values: tuple[str, ...] | list[str], what: str) -> Any:
    allowed = tuple(values)

    def check(v: str) -> str:
        if v not in allowed:
            raise ValueError(f"unknown {what} {v!r}; one of {', '.join(allowed)}")
        return v

    return check


def _in_range(v: datetime | None) -> datetime | None:
    if v is not None and not EARLIEST.year <= v.year <= LATEST.year:
        raise ValueError(f"must be between {EARLIEST.year} and {LATEST.year}")
    return v


_SORT_VALUES = [s for name in CUSTOMER_SORTS for s in (name, "-" + name)]
Status = Annotated[str, AfterValidator(_one_of(CUSTOMER_STATUSES, "status")),
                   WithJsonSchema({"type": "string", "enum": list(CUSTOMER_STATUSES)})]
Industry = Annotated[str, AfterValidator(_one_of(list(INDUSTRIES), "industry")),
                     WithJsonSchema({"type": "string", "enum": list(INDUSTRIES),
                                     "description": "GB/T 4754-2017 section letter"})]
Source = Annotated[str, AfterValidator(_one_of(SOURCES, "source")),
                   WithJsonSchema({"type": "string", "enum": list(SOURCES)})]
CustomerSort = Annotated[str, AfterValidator(_one_of(_SORT_VALUES, "sort")),
                         WithJsonSchema({"type": "string", "enum": _SORT_VALUES})]
Interface = Annotated[str, AfterValidator(_one_of(INTERFACES, "interface")),
                      WithJsonSchema({"type": "string", "enum": list(INTERFACES)})]
Scope = Annotated[str, AfterValidator(_one_of(SCOPES, "scope")),
                  WithJsonSchema({"type": "string", "enum": list(SCOPES)})]


class Problem(BaseModel):
    """An error (RFC 9457). Branch on ``type``; ``errors`` lists messages per field (422);
    other members say more: ``current_version`` (409/412), ``action`` (reauth-required),
    ``parameter`` (400), ``retry_after`` (429), ``error_id`` (500)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: dict[str, list[str]] | None = None


# --- paths -----------------------------------------------------------------------------------
class IdPath(BaseModel):
    id: Id


class LoginPath(BaseModel):
    login: Login


class RolePath(BaseModel):
    name: Annotated[str, Field(pattern=ROLE_PATTERN)]


class PluginPath(BaseModel):
    name: Annotated[str, Field(pattern=PLUGIN_PATTERN)]


class MemberPath(BaseModel):
    id: Id
    login: Login


# --- queries ---------------------------------------------------------------------------------
class _Query(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PageQuery(_Query):
    cursor: str | None = Field(default=None, max_length=2000,
                               description="next_cursor of the previous page")
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT, description="items per page")


class CustomerFilters(_Query):
    """The customer filters (plus ``custom.<key>`` for each custom field)."""

    q: str | None = Field(default=None, max_length=200,
                          description="code, exact phone or email of a contact, or part of the name")
    owner: str | None = Field(default=None, pattern=r"^(me|[1-9][0-9]{0,8})$",
                              description="`me` or a user id")
    team: Id | None = Field(default=None, description="owned by a member of this team")
    status: Status | None = None
    industry: Industry | None = None
    region: str | None = Field(default=None, max_length=32)
    source: Source | None = None
    created_from: Day | None = Field(default=None, description="created on or after (your time zone)")
    created_to: Day | None = Field(default=None, description="created on or before (your time zone)")


class CustomerListQuery(PageQuery, CustomerFilters):
    sort: CustomerSort = Field(default="-id", description="field, `-` for descending")


class CustomerExportQuery(CustomerFilters):
    format: Literal["csv", "jsonl"] = Field(default="csv", description="CSV or JSON lines")


class FollowUpListQuery(PageQuery):
    customer_id: Id | None = None


class UserListQuery(PageQuery):
    q: str | None = Field(default=None, max_length=64, description="part of the login or name")
    active: bool | None = None


class FieldListQuery(_Query):
    entity: str | None = Field(default=None, max_length=64, description="e.g. customer, contact")
    include_inactive: bool = False


class AuditListQuery(PageQuery):
    actor: str | None = Field(default=None, max_length=64, description="login")
    entity: str | None = Field(default=None, max_length=64)
    entity_id: Id | None = None
    action: str | None = Field(default=None, max_length=120,
                               description='exact, or a prefix ending with "." (customer.)')
    interface: Interface | None = None
    date_from: Day | None = None
    date_to: Day | None = None


class DisablePlanQuery(_Query):
    cascade: bool = Field(default=False, description="also switch off the enabled dependents")


# --- bodies ----------------------------------------------------------------------------------
class ContactCreate(schemas.ContactCreate):
    customer_id: Id


class FollowUpCreate(schemas.FollowUpCreate):
    customer_id: Id
    contact_id: Id | None = None
    occurred_at: datetime | None = None  # default: now

    _range = field_validator("occurred_at")(_in_range)


class FollowUpUpdate(schemas.FollowUpUpdate):
    _range = field_validator("occurred_at")(_in_range)


class AssignOwner(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_ids: list[Id] = Field(min_length=1, max_length=1000)
    owner_id: Id


class UserCreate(users_svc.UserCreate):
    login: str = Field(max_length=64)
    password: str = Field(min_length=8, max_length=1024, repr=False)
    display_name: str = Field(default="", max_length=120)
    email: str | None = Field(default=None, max_length=254)
    timezone: str = Field(default="Asia/Shanghai", max_length=64)
    roles: list[Annotated[str, Field(max_length=64)]] = Field(default=[], max_length=50,
                                                              description="needs roles.manage")
    team: str | None = Field(default=None, max_length=120)


class UserUpdate(users_svc.UserUpdate):
    email: str | None = Field(default=None, max_length=254)
    timezone: str | None = Field(default=None, max_length=64)


class PasswordSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=8, max_length=1024, repr=False)


class UserRolesSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    roles: list[Annotated[str, Field(max_length=64)]] = Field(max_length=50)


class TeamCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=120)
    manager: Login | None = None


Grants = dict[Annotated[str, Field(max_length=120)], Scope | None]


class RoleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(pattern=ROLE_PATTERN)
    label: str = Field(min_length=1, max_length=120)
    label_en: str = Field(default="", max_length=120)
    description: str = Field(default="", max_length=500)
    grants: Grants = Field(default={}, max_length=1000,
                           description="action → scope (own/team/all) or null for actions without records")


class GrantsSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grants: Grants = Field(max_length=1000)


class FieldCreate(fields_svc.FieldDefIn):
    entity: str = Field(max_length=64)
    options: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(default=[], max_length=200)
    position: int = Field(default=0, ge=-10_000, le=10_000)


class FieldUpdate(fields_svc.FieldDefUpdate):
    options: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(default=None,
                                                                                      max_length=200)
    position: int | None = Field(default=None, ge=-10_000, le=10_000)


class PluginDisable(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cascade: bool = Field(default=False, description="also switch off the enabled dependents")


# --- answers ---------------------------------------------------------------------------------
class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="pass as cursor for the next page; null on the last")
    limit: int


class Items(BaseModel, Generic[T]):
    items: list[T]


class CustomerPage(Page[CustomerRead]):
    pass


class FollowUpPage(Page[FollowUpRead]):
    pass


class ContactList(Items[ContactRead]):
    pass


class CustomerCount(BaseModel):
    count: int
    exact: bool = Field(description="false when counting stopped at the cap (count is a lower bound)")


class Assigned(BaseModel):
    assigned: int


class UserRead(BaseModel):
    id: int
    login: str
    display_name: str
    email: str | None
    locale: str
    timezone: str
    is_active: bool
    roles: list[str]
    teams: list[str]
    version: int
    created_at: datetime
    updated_at: datetime


class UserPage(Page[UserRead]):
    pass


class AccessLineRead(BaseModel):
    action: str
    label: str
    plugin: str
    allowed: bool
    scope: str | None
    reasons: list[str]


class AccessRead(BaseModel):
    login: str
    roles: list[str]
    access: list[AccessLineRead]


class TeamRead(BaseModel):
    id: int
    name: str
    manager_id: int | None
    members: list[str]
    version: int
    created_at: datetime
    updated_at: datetime


class TeamList(Items[TeamRead]):
    pass


class RoleRead(BaseModel):
    id: int
    name: str
    label: str
    label_en: str
    description: str
    builtin: bool
    grants: dict[str, str | None]
    version: int
    created_at: datetime
    updated_at: datetime


class RoleList(Items[RoleRead]):
    pass


class FieldRead(BaseModel):
    id: int
    entity: str
    key: str
    label: str
    label_en: str
    type: str
    required: bool
    options: list[str]
    regex: str | None
    min_value: str | None
    max_value: str | None
    help_text: str
    position: int
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class FieldList(Items[FieldRead]):
    pass


class PluginRead(BaseModel):
    name: str
    version: str
    label: str
    summary: str
    category: str
    stages: list[str]
    depends: list[str]
    dependents: list[str]
    enabled: bool
    status: str = Field(description="loaded or failed")
    error: str | None


class PluginList(Items[PluginRead]):
    pass


class PluginChange(BaseModel):
    plugins: list[str] = Field(description="every plugin switched (dependencies and glue plugins too)")


class AuditEntryRead(BaseModel):
    id: int
    at: datetime
    actor_id: int | None
    actor_login: str
    interface: str
    action: str
    entity: str
    entity_id: int | None
    changes: dict[str, Any]
    summary: str


class AuditPage(Page[AuditEntryRead]):
    pass


class MeRead(BaseModel):
    id: int | None
    login: str
    display_name: str
    locale: str
    timezone: str
    roles: list[str]
    permissions: dict[str, str | None] = Field(description="action → scope (null: no records)")
