"""The customer list's filters: what the form shows, what the service takes, what the URL and
a saved filter keep."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from crm_core.context import Ctx
from crm_core.models import CustomFieldDefinition
from crm_core.services.custom_fields import list_fields
from crm_core.web.i18n import N_
from crm_core.web.views.customers_common import text

PAGE = "customers"
SORTS: dict[str, str] = {
    "-id": N_("Newest first"), "-updated_at": N_("Recently updated"), "name": N_("Name A–Z"),
    "-name": N_("Name Z–A"), "code": N_("Customer ID"), "id": N_("Oldest first"),
}
DEFAULT_SORT = "-id"
LIMITS = (25, 50, 100)
FILTER_KEYS = ("q", "status", "industry", "region", "source", "owner", "created_from",
               "created_to", "sort", "limit")
FILTER_FIELD_TYPES = ("choice", "multi_choice", "boolean")


def filter_fields(ctx: Ctx) -> list[CustomFieldDefinition]:
    """The customer custom fields a list can be filtered by (choices and yes/no)."""
    return [f for f in list_fields(ctx, "customer") if f.type in FILTER_FIELD_TYPES]


@dataclass
class Filters:
    """The list's filters as the form shows them, as the service takes them, and as URL
    parameters (without paging)."""

    values: dict[str, str] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    params: list[tuple[str, str]] = field(default_factory=list)
    limit: int = LIMITS[0]

    @property
    def active(self) -> bool:
        """Some filter narrows the list (sorting and page size don't)."""
        return any(k not in ("sort", "limit") for k, _v in self.params)

    @property
    def advanced(self) -> bool:
        """Something beyond the search box is set (the filter panel opens)."""
        return any(k != "q" for k, _v in self.params)


def read_filters(source: Mapping[str, Any], fields: list[CustomFieldDefinition]) -> Filters:
    f = Filters()
    for key in FILTER_KEYS:
        value = text(source, key, 200)
        if key == "sort" and value not in SORTS:
            value = DEFAULT_SORT
        if key == "limit":
            value = value if value.isdigit() and int(value) in LIMITS else str(LIMITS[0])
            f.limit = int(value)
        f.values[key] = value
        if not value or (key == "sort" and value == DEFAULT_SORT) or (
                key == "limit" and int(value) == LIMITS[0]):
            continue
        f.params.append((key, value))
        if key != "limit":
            f.query[key] = value
    custom: dict[str, str] = {}
    for d in fields:
        name = f"cf_{d.key}"
        value = text(source, name, 200)
        f.values[name] = value
        if value:
            custom[d.key] = value
            f.params.append((name, value))
    if custom:
        f.query["custom"] = custom
    return f


def list_url(params: list[tuple[str, str]]) -> str:
    query = urlencode(params)
    return f"/customers?{query}" if query else "/customers"
