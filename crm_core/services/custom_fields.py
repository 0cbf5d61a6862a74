"""Custom fields: admins add typed fields to customers, contacts and plugin entities."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import ColumnElement, Float, and_, cast, exists, func, select, true
from sqlalchemy.orm import Session
from sqlmodel import col

from crm_core.context import Ctx
from crm_core.db import is_sqlite
from crm_core.errors import NotFound, ValidationError
from crm_core.models import CustomFieldDefinition
from crm_core.models.system import FIELD_TYPES
from crm_core.permissions.scope import require
from crm_core.services.base import bump, check_version, parse, record

if TYPE_CHECKING:
    from crm_core.kernel import Kernel

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class FieldDefIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entity: str
    key: str
    label: str = Field(min_length=1, max_length=120)
    label_en: str = Field(default="", max_length=120)
    type: str
    required: bool = False
    options: list[str] = []
    regex: str | None = Field(default=None, max_length=300)
    min_value: str | None = Field(default=None, max_length=40)
    max_value: str | None = Field(default=None, max_length=40)
    help_text: str = Field(default="", max_length=300)
    position: int = 0

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        if not _KEY.fullmatch(v):
            raise ValueError("lowercase letters, digits and _, starting with a letter")
        return v

    @field_validator("type")
    @classmethod
    def _type(cls, v: str) -> str:
        if v not in FIELD_TYPES:
            raise ValueError(f"one of {', '.join(FIELD_TYPES)}")
        return v

    @field_validator("regex")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return v or None


class FieldDefUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str | None = Field(default=None, min_length=1, max_length=120)
    label_en: str | None = Field(default=None, max_length=120)
    required: bool | None = None
    options: list[str] | None = None
    regex: str | None = Field(default=None, max_length=300)
    min_value: str | None = Field(default=None, max_length=40)
    max_value: str | None = Field(default=None, max_length=40)
    help_text: str | None = Field(default=None, max_length=300)
    position: int | None = None
    active: bool | None = None


def _check_def(d: FieldDefIn | CustomFieldDefinition) -> None:
    errors: dict[str, list[str]] = {}
    if d.regex:  # also on update: a stored bad pattern would break every later write
        try:
            re.compile(d.regex)
        except re.error as exc:
            errors["regex"] = [f"not a valid regular expression: {exc}"]
    if d.type in ("choice", "multi_choice") and not d.options:
        errors["options"] = ["a choice field needs at least one option"]
    if d.type in ("number", "decimal", "date"):
        for name in ("min_value", "max_value"):
            raw = getattr(d, name)
            if raw not in (None, ""):
                try:
                    _coerce_scalar(d.type, raw)
                except ValueError as exc:
                    errors[name] = [str(exc)]
    if errors:
        raise ValidationError("invalid custom field", errors)


def create_field(ctx: Ctx, data: Any) -> CustomFieldDefinition:
    require(ctx.actor, "custom_fields.manage")
    d = parse(FieldDefIn, data)
    decl = ctx.kernel.entities.get(d.entity)
    if decl is None or not decl[0].custom_fields:
        raise ValidationError("invalid custom field",
                              {"entity": [f"{d.entity!r} does not take custom fields"]})
    _check_def(d)
    with ctx.uow() as s:
        if s.scalar(select(col(CustomFieldDefinition.id)).where(
                col(CustomFieldDefinition.entity) == d.entity, col(CustomFieldDefinition.key) == d.key)):
            raise ValidationError("invalid custom field",
                                  {"key": [f"{d.entity} already has a field {d.key!r}"]})
        row = CustomFieldDefinition(**d.model_dump())
        s.add(row)
        s.flush()
        record(ctx, s, action="custom_field.create", entity="custom_field", entity_id=row.id,
               changes=d.model_dump(), summary=f"{d.entity}.{d.key}",
               event="custom_field.created", payload=d.model_dump())
    ctx.kernel.invalidate(f"custom_fields:{d.entity}")
    return row


def update_field(ctx: Ctx, field_id: int, data: Any, version: int | None = None) -> CustomFieldDefinition:
    require(ctx.actor, "custom_fields.manage")
    upd = parse(FieldDefUpdate, data).model_dump(exclude_unset=True)
    nulls = {k: ["cannot be empty"] for k, v in upd.items()
             if v is None and k not in ("regex", "min_value", "max_value")}  # NOT NULL columns
    if nulls:
        raise ValidationError("invalid custom field", nulls)
    with ctx.uow() as s:
        row = s.get(CustomFieldDefinition, field_id)
        if row is None:
            raise NotFound(f"custom field {field_id} not found")
        check_version(row, version, "custom field")
        before = {k: getattr(row, k) for k in upd}
        for k, v in upd.items():
            setattr(row, k, v)
        _check_def(row)
        bump(row)
        record(ctx, s, action="custom_field.update", entity="custom_field", entity_id=row.id,
               changes={k: [before[k], v] for k, v in upd.items() if before[k] != v},
               event="custom_field.updated")
    ctx.kernel.invalidate(f"custom_fields:{row.entity}")
    return row


def get_field(ctx: Ctx, field_id: int) -> CustomFieldDefinition:
    """One definition (active or not), for editing it."""
    with ctx.reader() as s:
        row = s.get(CustomFieldDefinition, field_id)
        if row is None:
            raise NotFound(f"custom field {field_id} not found")
        s.expunge(row)
        return row


def list_fields(ctx: Ctx, entity: str, active_only: bool = True) -> list[CustomFieldDefinition]:
    with ctx.reader() as s:
        return definitions(s, entity, active_only)


def definitions(
    s: Session, entity: str, active_only: bool = True, kernel: Kernel | None = None
) -> list[CustomFieldDefinition]:
    """An entity's field definitions. With ``kernel``, the active ones are cached for the plugin
    refresh interval (they are read on every write and rarely change); a change made in this
    process is seen at once, one made in another process within that interval."""

    def load() -> list[CustomFieldDefinition]:
        stmt = select(CustomFieldDefinition).where(col(CustomFieldDefinition.entity) == entity)
        if active_only:
            stmt = stmt.where(col(CustomFieldDefinition.active).is_(True))
        rows = list(s.scalars(stmt.order_by(col(CustomFieldDefinition.position),
                                            col(CustomFieldDefinition.id))))
        for r in rows:
            s.expunge(r)  # shared read-only across sessions
        return rows

    if kernel is None or not active_only:
        return load()
    return kernel.cached(f"custom_fields:{entity}", load)


# --- values ------------------------------------------------------------------------------
def _coerce_scalar(ftype: str, raw: Any) -> Any:
    if ftype == "number":
        if isinstance(raw, bool):
            raise ValueError("must be a whole number")
        try:
            return int(str(raw).strip())
        except ValueError:
            raise ValueError("must be a whole number") from None
    if ftype == "decimal":
        try:
            d = Decimal(str(raw).strip().replace(",", ""))
        except InvalidOperation:
            raise ValueError("must be a number") from None
        if not d.is_finite():
            raise ValueError("must be a number")
        return d
    if ftype == "date":
        if isinstance(raw, date):
            return raw
        try:
            return date.fromisoformat(str(raw).strip().replace("/", "-"))
        except ValueError:
            raise ValueError("must be a date YYYY-MM-DD") from None
    raise AssertionError(ftype)


def coerce_value(d: CustomFieldDefinition, raw: Any) -> Any:
    """Validate one value against its definition; returns the JSON-storable value."""
    t = d.type
    if t == "text":
        v = str(raw).strip()
        if d.regex and not re.fullmatch(d.regex, v):
            raise ValueError(f"does not match the required format {d.regex}")
        if len(v) > 2000:
            raise ValueError("at most 2000 characters")
        return v
    if t == "boolean":
        if isinstance(raw, bool):
            return raw
        s = str(raw).strip().lower()
        if s in ("1", "true", "yes", "on", "是"):
            return True
        if s in ("0", "false", "no", "off", "否"):
            return False
        raise ValueError("must be yes or no")
    if t == "choice":
        v = str(raw).strip()
        if v not in d.options:
            raise ValueError(f"must be one of: {', '.join(d.options)}")
        return v
    if t == "multi_choice":
        items = raw if isinstance(raw, list) else [x for x in str(raw).split(",")]
        vals = [str(x).strip() for x in items if str(x).strip()]
        bad = [x for x in vals if x not in d.options]
        if bad:
            raise ValueError(f"{', '.join(bad)} not among: {', '.join(d.options)}")
        return sorted(set(vals), key=d.options.index)
    v = _coerce_scalar(t, raw)
    lo = _coerce_scalar(t, d.min_value) if d.min_value not in (None, "") else None
    hi = _coerce_scalar(t, d.max_value) if d.max_value not in (None, "") else None
    if lo is not None and v < lo:
        raise ValueError(f"must be at least {d.min_value}")
    if hi is not None and v > hi:
        raise ValueError(f"must be at most {d.max_value}")
    if t == "decimal":
        return str(v)
    if t == "date":
        return v.isoformat()
    return v


def validate_custom(
    s: Session, entity: str, values: dict[str, Any] | None, current: dict[str, Any] | None = None,
    kernel: Kernel | None = None,
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Merge ``values`` into ``current`` and validate; returns (new dict, errors by field)."""
    defs = {d.key: d for d in definitions(s, entity, kernel=kernel)}
    merged = dict(current or {})
    errors: dict[str, list[str]] = {}
    for key, raw in (values or {}).items():
        d = defs.get(key)
        if d is None:
            errors[f"custom.{key}"] = ["unknown custom field"]
            continue
        if raw is None or raw == "" or raw == []:
            merged.pop(key, None)
            continue
        try:
            merged[key] = coerce_value(d, raw)
        except ValueError as exc:
            errors[f"custom.{key}"] = [str(exc)]
    for key, d in defs.items():
        if d.required and merged.get(key) in (None, "", []) and f"custom.{key}" not in errors:
            errors[f"custom.{key}"] = [f"{d.label} is required"]
    return merged, errors


def custom_filter(
    s: Session, model: Any, entity: str, key: str, raw: Any, kernel: Kernel | None = None
) -> ColumnElement[bool]:
    """A SQL condition for ``custom.<key>=<value>``; ranges as ``{"min": a, "max": b}``."""
    defs = {d.key: d for d in definitions(s, entity, kernel=kernel)}
    d = defs.get(key)
    if d is None:
        raise ValidationError("invalid filter", {f"custom.{key}": ["unknown custom field"]})
    col = model.custom[key]
    try:
        if d.type == "multi_choice":
            v = coerce_value(d, [raw])[0]
            if is_sqlite(s):
                je = func.json_each(model.custom, f"$.{key}").table_valued("value")
                return exists(select(1).select_from(je).where(je.c.value == v))
            return func.jsonb_exists(func.cast(model.custom, _jsonb())[key], v)
        if isinstance(raw, dict):
            conds = []
            for op, bound in raw.items():
                if op not in ("min", "max"):
                    raise ValueError("use min and max for ranges")
                b = coerce_value(d, bound)
                expr = _numeric(col) if d.type in ("number", "decimal") else col.as_string()
                bv = float(b) if d.type in ("number", "decimal") else b
                conds.append(expr >= bv if op == "min" else expr <= bv)
            return and_(true(), *conds)
        v = coerce_value(d, raw)
    except ValueError as exc:
        raise ValidationError("invalid filter", {f"custom.{key}": [str(exc)]}) from None
    if d.type == "boolean":
        return col.as_boolean() == v
    if d.type in ("number", "decimal"):
        return _numeric(col) == float(v)
    return col.as_string() == str(v)


def _numeric(col: Any) -> Any:
    """A JSON number or numeric string as a number on both engines. Decimals are stored as
    strings; SQLite's bare JSON_EXTRACT (what ``as_float()`` renders) would compare them as text
    and never equal a number."""
    return cast(col.as_string(), Float)


def _jsonb() -> Any:
    from sqlalchemy.dialects.postgresql import JSONB

    return JSONB
