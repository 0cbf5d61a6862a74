"""Saved filters: a user's named list filters, per list page (``customers``, ``<plugin>.<page>``).

Each user sees and changes only their own. They are personal view state, like a bookmark, so
they are neither audited nor announced as events. The page decides which parameters a filter
may hold; the service keeps them as a normalised query string.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import func, select
from sqlmodel import col

from crm_core.context import Ctx
from crm_core.db import utcnow
from crm_core.errors import NotFound, PermissionDenied, ValidationError
from crm_core.models import SavedFilter
from crm_core.normalize import normalize_name

MAX_PER_PAGE = 50
MAX_QUERY = 2000
_PAGE = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")


@dataclass(frozen=True)
class SavedFilterRead:
    id: int
    page: str
    name: str
    query: str  # ``status=won&owner=me``
    updated_at: datetime

    @property
    def params(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query, keep_blank_values=False)


def _read(row: SavedFilter) -> SavedFilterRead:
    assert row.id is not None
    return SavedFilterRead(row.id, row.page, row.name, row.query, row.updated_at)


def _user_id(ctx: Ctx) -> int:
    if ctx.actor.id is None:
        raise PermissionDenied("saved filters belong to a signed-in user")
    return ctx.actor.id


def _page(page: str) -> str:
    if not _PAGE.fullmatch(page or ""):
        raise ValidationError("invalid saved filter", {"page": ["not a list page name"]})
    return page


def encode_params(params: Mapping[str, str] | Iterable[tuple[str, str]]) -> str:
    """``[("status", "won"), ("q", "")]`` → ``status=won`` (empty values dropped, order kept)."""
    pairs = params.items() if isinstance(params, Mapping) else params
    return urlencode([(str(k), str(v)) for k, v in pairs if str(v).strip() != ""])


def list_filters(ctx: Ctx, page: str) -> list[SavedFilterRead]:
    """The actor's saved filters of ``page``, by name."""
    user_id = _user_id(ctx)
    with ctx.reader() as s:
        rows = s.scalars(select(SavedFilter).where(
            col(SavedFilter.user_id) == user_id, col(SavedFilter.page) == _page(page))
            .order_by(col(SavedFilter.name), col(SavedFilter.id)))
        return [_read(r) for r in rows]


def save_filter(
    ctx: Ctx, page: str, name: str, params: Mapping[str, str] | Iterable[tuple[str, str]]
) -> SavedFilterRead:
    """Save the filters ``params`` under ``name``; a filter of the same name is replaced.

    :raises ValidationError: empty or too long name, too long query, too many filters.
    """
    user_id = _user_id(ctx)
    page = _page(page)
    name = normalize_name(name or "")
    query = encode_params(params)
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["cannot be empty"]
    elif len(name) > 60:
        errors["name"] = ["String should have at most 60 characters"]
    if len(query) > MAX_QUERY:
        errors["query"] = [f"at most {MAX_QUERY} characters"]
    if errors:
        raise ValidationError("invalid saved filter", errors)
    with ctx.uow() as s:
        row = s.scalar(select(SavedFilter).where(
            col(SavedFilter.user_id) == user_id, col(SavedFilter.page) == page,
            col(SavedFilter.name) == name))
        if row is None:
            n = s.scalar(select(func.count()).select_from(SavedFilter).where(
                col(SavedFilter.user_id) == user_id, col(SavedFilter.page) == page)) or 0
            if n >= MAX_PER_PAGE:
                raise ValidationError("invalid saved filter", {"name": [
                    f"at most {MAX_PER_PAGE} saved filters per list; delete one first"]})
            row = SavedFilter(user_id=user_id, page=page, name=name, query=query)
            s.add(row)
        else:
            row.query = query
            row.updated_at = utcnow()
        s.flush()
        return _read(row)


def delete_filter(ctx: Ctx, filter_id: int) -> None:
    """Delete one of the actor's saved filters; another user's is 'not found'."""
    user_id = _user_id(ctx)
    with ctx.uow() as s:
        row = s.scalar(select(SavedFilter).where(col(SavedFilter.id) == filter_id,
                                                 col(SavedFilter.user_id) == user_id))
        if row is None:
            raise NotFound(f"saved filter {filter_id} not found")
        s.delete(row)
