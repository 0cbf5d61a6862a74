"""Record scope applied in SQL — the one helper every list, count, search and export uses."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, false, literal, select, true, union_all
from sqlalchemy.orm import Session
from sqlmodel import col

from crm_core.errors import NotFound, PermissionDenied
from crm_core.models import TeamMember
from crm_core.permissions.actor import Actor

if TYPE_CHECKING:
    from crm_core.kernel import Kernel


def _scope_for(kernel: Kernel, entity: str, scope: str, actor: Actor) -> ColumnElement[bool]:
    decl = kernel.entity(entity)
    if scope == "all":
        return true()
    if decl.owner_column:
        owner = getattr(decl.model, decl.owner_column)
        if actor.id is None:
            return false()
        if scope == "own" or not actor.team_ids:
            return owner == actor.id
        # one IN over "my team members, and me": the planner walks the owner index once
        members = union_all(
            select(col(TeamMember.user_id)).where(col(TeamMember.team_id).in_(actor.team_ids)),
            select(literal(actor.id)),
        )
        return owner.in_(members)
    if decl.parent:
        fk, parent_name = decl.parent
        parent = kernel.entity(parent_name)
        inner = _scope_for(kernel, parent_name, scope, actor)
        return getattr(decl.model, fk).in_(select(parent.model.id).where(inner))
    # an entity with neither owner nor parent has no records to scope: all or nothing
    return true()


def scope_clause(kernel: Kernel, actor: Actor, entity: str, action: str) -> ColumnElement[bool]:
    """SQL condition limiting ``entity`` rows to those ``actor`` may ``action``.

    Deny by default: an actor without the action gets ``false()``.
    """
    scope = actor.scope(action)
    if scope is None:
        return false()
    return _scope_for(kernel, entity, scope, actor)


def scoped_select(
    kernel: Kernel, actor: Actor, entity: str, action: str, *columns: Any
) -> Select[Any]:
    """``SELECT <columns or the model> FROM entity WHERE <scope>``; add filters and order."""
    model = kernel.entity(entity).model
    stmt = select(*columns) if columns else select(model)
    return stmt.where(scope_clause(kernel, actor, entity, action))


def require(actor: Actor, action: str) -> None:
    if not actor.can(action):
        raise PermissionDenied(f"{actor.login} may not {action}")


def fetch_in_scope(
    kernel: Kernel, session: Session, actor: Actor, entity: str, record_id: int, action: str,
    read_action: str | None = None, for_update: bool = False,
) -> Any:
    """Load one row the actor may ``action``; unreadable rows are 'not found' (no existence
    leak), readable-but-not-actionable rows are 'permission denied'."""
    decl = kernel.entity(entity)
    model = decl.model
    stmt = select(model).where(model.id == record_id, scope_clause(kernel, actor, entity, action))
    if for_update and not kernel.settings.is_sqlite:
        stmt = stmt.with_for_update()
    row = session.scalars(stmt).first()
    if row is not None:
        return row
    read_action = read_action or decl.read_action
    if read_action and read_action != action:
        visible = session.scalar(
            select(model.id).where(
                model.id == record_id, scope_clause(kernel, actor, entity, read_action)
            )
        )
        if visible is not None:
            raise PermissionDenied(f"{actor.login} may not {action} {entity} {record_id}")
    raise NotFound(f"{entity} {record_id} not found")


def require_parent_in_scope(
    kernel: Kernel, session: Session, actor: Actor, entity: str, parent_id: int, action: str
) -> None:
    """Before creating a child row (a contact on a customer…): the parent must be one the actor
    could ``action`` a child of — the same rule that scopes existing children."""
    scope = actor.scope(action)
    if scope is None:
        raise PermissionDenied(f"{actor.login} may not {action}")
    decl = kernel.entity(entity)
    if decl.parent is None:
        return
    _fk, parent_name = decl.parent
    parent = kernel.entity(parent_name)
    ok = session.scalar(select(parent.model.id).where(
        parent.model.id == parent_id, _scope_for(kernel, parent_name, scope, actor)))
    if ok is None:
        raise PermissionDenied(f"{actor.login} may not {action} on {parent_name} {parent_id}")
