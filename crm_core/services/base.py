"""What every service shares: audit + event on write, version checks, keyset pages."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticError
from sqlalchemy.orm import Session

from crm_core.context import Ctx
from crm_core.db import utcnow
from crm_core.errors import Conflict, ValidationError
from crm_core.models import AuditEntry

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

MAX_LIMIT = 200


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def parse(model: type[M], data: Any) -> M:
    """Validate input into a schema model; pydantic errors become one clear ValidationError."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except PydanticError as exc:
        errors: dict[str, list[str]] = {}
        for e in exc.errors():
            loc = ".".join(str(p) for p in e["loc"]) or "__root__"
            msg = e["msg"]
            if e["type"] == "extra_forbidden":
                msg = "this field cannot be set here"
            errors.setdefault(loc, []).append(msg.removeprefix("Value error, "))
        raise ValidationError("invalid input", errors) from None


def changes_between(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        k: [jsonable(before.get(k)), jsonable(v)]
        for k, v in after.items()
        if before.get(k) != v
    }


def record(
    ctx: Ctx, session: Session, *, action: str, entity: str, entity_id: int | None,
    changes: dict[str, Any], summary: str = "", event: str | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """Write the audit entry and the outbox event of one change, in the caller's transaction."""
    session.add(AuditEntry(
        actor_id=ctx.actor.id, actor_login=ctx.actor.login, interface=ctx.interface,
        action=action, entity=entity, entity_id=entity_id, changes=jsonable(changes),
        summary=summary[:500],
    ))
    if event:
        ctx.kernel.events.emit(ctx, session, event, entity, entity_id,
                               jsonable(payload if payload is not None else {"changes": changes}))


def check_version(row: Any, expected: int | None, entity: str) -> None:
    if expected is not None and row.version != expected:
        raise Conflict(
            f"{entity} {row.id} was changed by someone else (you edited version {expected}, "
            f"it is now version {row.version}); reload and apply your change again",
            current_version=row.version,
        )


def bump(row: Any) -> None:
    row.version += 1
    row.updated_at = utcnow()


def run_validators(
    ctx: Ctx, entity: str, data: dict[str, Any], existing: Any,
    errors: dict[str, list[str]] | None = None,
) -> None:
    errors = dict(errors or {})
    for result in ctx.kernel.host.hook_caller("validate_entity")(
        kernel=ctx.kernel, ctx=ctx, entity=entity, data=data, existing=existing
    ):
        for k, msgs in (result or {}).items():
            errors.setdefault(k, []).extend(msgs)
    if errors:
        raise ValidationError(f"{entity} is not valid", errors)


# --- keyset pages ------------------------------------------------------------------------
@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None
    limit: int


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps([jsonable(v) for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, n: int) -> list[Any]:
    try:
        pad = "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(cursor + pad))
        if not isinstance(values, list) or len(values) != n:
            raise ValueError
        return values
    except (ValueError, TypeError):
        raise ValidationError("invalid cursor", {"cursor": ["not a cursor from a previous page"]}) from None


def clamp_limit(limit: int | None, default: int = 50) -> int:
    if limit is None:
        return default
    if limit < 1 or limit > MAX_LIMIT:
        raise ValidationError("invalid limit", {"limit": [f"between 1 and {MAX_LIMIT}"]})
    return limit


def delete_recorded(
    ctx: Ctx, s: Session, row: Any, *, entity: str, action: str, event: str,
    snapshot: dict[str, Any], summary: str, payload: dict[str, Any] | None = None,
) -> None:
    """Delete ``row`` and write its audit entry (each filled field: old value → ``None``) and its
    outbox event (``payload``, by default the id with the snapshot) in the caller's transaction.
    The caller has fetched the row in scope and checked its version."""
    row_id = row.id
    s.delete(row)
    s.flush()
    record(ctx, s, action=action, entity=entity, entity_id=row_id,
           changes={k: [v, None] for k, v in snapshot.items() if v not in (None, {}, "")},
           summary=summary, event=event,
           payload=payload if payload is not None else {"id": row_id, **snapshot})
