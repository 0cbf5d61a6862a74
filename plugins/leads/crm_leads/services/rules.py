"""The ordered list of assignment rules (``leads.manage_rules``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from crm_core.context import Ctx
from crm_core.errors import NotFound, ValidationError
from crm_core.models import Team, User
from crm_core.permissions.scope import require
from crm_core.services.base import bump, check_version, jsonable, parse, record
from crm_leads.models import AssignmentRule
from crm_leads.schemas import RuleIn, RuleRead

ENTITY = "leads.rule"


def to_read(row: AssignmentRule) -> RuleRead:
    return RuleRead.model_validate(row, from_attributes=True)


def list_rules(ctx: Ctx) -> list[RuleRead]:
    require(ctx.actor, "leads.read")
    with ctx.reader() as s:
        rows = s.scalars(select(AssignmentRule).order_by(col(AssignmentRule.is_fallback),
                                                         col(AssignmentRule.position),
                                                         col(AssignmentRule.id)))
        return [to_read(r) for r in rows]


def _check(s: Session, d: RuleIn) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    if d.action == "user":
        user = s.get(User, d.user_id) if d.user_id else None
        if user is None or not user.is_active:
            errors["user_id"] = ["choose an active user"]
    elif d.team_id is None or s.get(Team, d.team_id) is None:
        errors["team_id"] = ["choose a team"]
    c = d.conditions
    if c.value_min is not None and c.value_max is not None and c.value_min > c.value_max:
        errors["conditions.value_max"] = [f"must be at least {c.value_min}"]
    if errors:
        raise ValidationError("rule is not valid", errors)
    values = d.model_dump(exclude={"position", "conditions"})
    values["conditions"] = jsonable(c.model_dump(exclude_defaults=True))
    if d.action == "user":
        values["team_id"] = d.team_id
    else:
        values["user_id"] = None
    return values


def create_rule(ctx: Ctx, data: RuleIn | dict[str, Any]) -> RuleRead:
    d = parse(RuleIn, data)
    require(ctx.actor, "leads.manage_rules")
    with ctx.uow() as s:
        values = _check(s, d)
        pos = d.position
        if pos is None:
            pos = (s.scalar(select(func.max(AssignmentRule.position))) or 0) + 10
        row = AssignmentRule(**values, position=pos)
        s.add(row)
        s.flush()
        record(ctx, s, action="lead_rule.create", entity=ENTITY, entity_id=row.id,
               changes={k: [None, v] for k, v in values.items()}, summary=row.name)
        return to_read(row)


def update_rule(ctx: Ctx, rule_id: int, data: RuleIn | dict[str, Any],
                version: int | None = None) -> RuleRead:
    d = parse(RuleIn, data)
    require(ctx.actor, "leads.manage_rules")
    with ctx.uow() as s:
        row = s.get(AssignmentRule, rule_id)
        if row is None:
            raise NotFound(f"rule {rule_id} not found")
        check_version(row, version, "rule")
        values = _check(s, d)
        if d.position is not None:
            values["position"] = d.position
        before = {k: getattr(row, k) for k in values}
        for k, v in values.items():
            setattr(row, k, v)
        bump(row)
        record(ctx, s, action="lead_rule.update", entity=ENTITY, entity_id=row.id,
               changes={k: [before[k], v] for k, v in values.items() if before[k] != v},
               summary=row.name)
        return to_read(row)


def delete_rule(ctx: Ctx, rule_id: int) -> None:
    require(ctx.actor, "leads.manage_rules")
    with ctx.uow() as s:
        row = s.get(AssignmentRule, rule_id)
        if row is None:
            raise NotFound(f"rule {rule_id} not found")
        name = row.name
        s.delete(row)
        record(ctx, s, action="lead_rule.delete", entity=ENTITY, entity_id=rule_id,
               changes={"name": [name, None]}, summary=name)


def set_rule_active(ctx: Ctx, rule_id: int, active: bool) -> RuleRead:
    """Switch a rule off (skipped by the engine, kept in the list) or on again."""
    require(ctx.actor, "leads.manage_rules")
    with ctx.uow() as s:
        row = s.get(AssignmentRule, rule_id)
        if row is None:
            raise NotFound(f"rule {rule_id} not found")
        if row.active != active:
            row.active = active
            bump(row)
            record(ctx, s, action="lead_rule.update", entity=ENTITY, entity_id=row.id,
                   changes={"active": [not active, active]}, summary=row.name)
        return to_read(row)


def move_rule(ctx: Ctx, rule_id: int, direction: int) -> list[RuleRead]:
    """Move a rule one place up (-1) or down (+1) in the order; positions are renumbered."""
    require(ctx.actor, "leads.manage_rules")
    with ctx.uow() as s:
        rows = list(s.scalars(select(AssignmentRule).where(~col(AssignmentRule.is_fallback))
                              .order_by(col(AssignmentRule.position), col(AssignmentRule.id))))
        ids = [r.id for r in rows]
        if rule_id not in ids:
            raise NotFound(f"rule {rule_id} not found")
        i = ids.index(rule_id)
        j = max(0, min(len(rows) - 1, i + direction))
        rows[i], rows[j] = rows[j], rows[i]
        for n, r in enumerate(rows, start=1):
            if r.position != n * 10:
                r.position = n * 10
                bump(r)
        record(ctx, s, action="lead_rule.reorder", entity=ENTITY, entity_id=rule_id,
               changes={"order": [ids, [r.id for r in rows]]}, summary="rule order")
        return [to_read(r) for r in rows]
