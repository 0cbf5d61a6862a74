"""Roles, grants, the built-in roles' defaults and a user's effective access."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import col

from crm_core.context import Ctx
from crm_core.declarations import SCOPES
from crm_core.errors import NotFound, ValidationError
from crm_core.models import KernelMeta, Role, RoleGrant, User, UserRole
from crm_core.models.base import row_id
from crm_core.permissions.actor import load_actor
from crm_core.permissions.catalog import BUILTIN_ROLES
from crm_core.permissions.scope import require
from crm_core.services.base import bump, record

_SEEDED_KEY = "builtin_grants_seeded"


def seed_builtin_grants(ctx: Ctx) -> list[str]:
    """Create the built-in roles and give them the default grants of every action declared by
    the kernel and the enabled plugins — once per action, so an admin's later removal sticks."""
    kernel = ctx.kernel
    actions = kernel.active_actions()
    added: list[str] = []
    with ctx.uow() as s:
        meta = s.get(KernelMeta, _SEEDED_KEY)
        seeded: set[str] = set(json.loads(meta.value)) if meta and meta.value else set()
        roles = {r.name: r for r in s.scalars(select(Role).where(col(Role.name).in_(BUILTIN_ROLES)))}
        for name, (zh, en, desc) in BUILTIN_ROLES.items():
            if name not in roles:
                roles[name] = Role(name=name, label=zh, label_en=en, description=desc, builtin=True)
                s.add(roles[name])
        s.flush()
        existing = {(g.role_id, g.action) for g in s.scalars(select(RoleGrant))}
        for action in sorted(actions):
            if action in seeded:
                continue
            decl = actions[action]
            for role_name, default in decl.defaults.items():
                role = roles.get(role_name)
                if role is None or (role.id, action) in existing:
                    continue
                scope = default if isinstance(default, str) else None
                s.add(RoleGrant(role_id=row_id(role), action=action, scope=scope))
                added.append(f"{role_name}:{action}")
            seeded.add(action)
        if meta is None:
            s.add(KernelMeta(key=_SEEDED_KEY, value=json.dumps(sorted(seeded))))
        else:
            meta.value = json.dumps(sorted(seeded))
    return added


def list_roles(ctx: Ctx) -> list[Role]:
    with ctx.reader() as s:
        return list(s.scalars(select(Role).order_by(col(Role.id))))


def role_grants(ctx: Ctx, role_name: str) -> dict[str, str | None]:
    with ctx.reader() as s:
        role = s.scalar(select(Role).where(col(Role.name) == role_name))
        if role is None:
            raise NotFound(f"no role named {role_name!r}")
        return {g.action: g.scope for g in s.scalars(
            select(RoleGrant).where(col(RoleGrant.role_id) == role.id))}


def _check_grants(ctx: Ctx, grants: dict[str, str | None]) -> None:
    errors: dict[str, list[str]] = {}
    for action, scope in grants.items():
        decl = ctx.kernel.actions.get(action)
        if decl is None:
            errors[action] = ["unknown permission"]
        elif decl[0].entity and scope not in SCOPES:
            errors[action] = [f"needs a scope: {', '.join(SCOPES)}"]
        elif not decl[0].entity and scope is not None:
            errors[action] = ["takes no scope"]
    if errors:
        raise ValidationError("invalid grants", errors)


def create_role(ctx: Ctx, name: str, label: str, grants: dict[str, str | None],
                label_en: str = "", description: str = "") -> Role:
    require(ctx.actor, "roles.manage")
    if not name or not name.replace("_", "").isalnum() or not name.islower():
        raise ValidationError("invalid role", {"name": ["lowercase letters, digits and _"]})
    _check_grants(ctx, grants)
    with ctx.uow() as s:
        if s.scalar(select(col(Role.id)).where(col(Role.name) == name)):
            raise ValidationError("invalid role", {"name": [f"a role {name!r} already exists"]})
        role = Role(name=name, label=label or name, label_en=label_en, description=description)
        s.add(role)
        s.flush()
        for a, sc in grants.items():
            s.add(RoleGrant(role_id=row_id(role), action=a, scope=sc))
        record(ctx, s, action="role.create", entity="role", entity_id=role.id,
               changes={"grants": [None, grants]}, summary=name, event="role.created",
               payload={"name": name, "grants": grants})
        return role


def set_grants(ctx: Ctx, role_name: str, grants: dict[str, str | None]) -> None:
    """Replace a role's grants (audited with before and after)."""
    require(ctx.actor, "roles.manage")
    _check_grants(ctx, grants)
    with ctx.uow() as s:
        role = s.scalar(select(Role).where(col(Role.name) == role_name))
        if role is None:
            raise NotFound(f"no role named {role_name!r}")
        before = {g.action: g.scope for g in s.scalars(
            select(RoleGrant).where(col(RoleGrant.role_id) == role.id))}
        s.execute(delete(RoleGrant).where(col(RoleGrant.role_id) == role.id))
        for a, sc in grants.items():
            s.add(RoleGrant(role_id=row_id(role), action=a, scope=sc))
        bump(role)
        record(ctx, s, action="role.update", entity="role", entity_id=role.id,
               changes={"grants": [before, grants]}, summary=role_name, event="role.updated",
               payload={"name": role_name, "grants": grants})


def update_role(ctx: Ctx, role_name: str, *, label: str, label_en: str = "",
                description: str = "") -> Role:
    """Rename a role for people (its ``name`` stays); built-in roles too."""
    require(ctx.actor, "roles.manage")
    label = (label or "").strip()
    errors: dict[str, list[str]] = {}
    if not label:
        errors["label"] = ["cannot be empty"]
    for field, value, limit in (("label", label, 120), ("label_en", label_en, 120),
                                ("description", description, 500)):
        if len(value or "") > limit:
            errors.setdefault(field, []).append(f"at most {limit} characters")
    if errors:
        raise ValidationError("invalid role", errors)
    after = {"label": label, "label_en": (label_en or "").strip(), "description": (description or "").strip()}
    with ctx.uow() as s:
        role = s.scalar(select(Role).where(col(Role.name) == role_name))
        if role is None:
            raise NotFound(f"no role named {role_name!r}")
        before = {k: getattr(role, k) for k in after}
        changes = {k: [before[k], v] for k, v in after.items() if before[k] != v}
        if not changes:
            return role
        for k, v in after.items():
            setattr(role, k, v)
        bump(role)
        record(ctx, s, action="role.update", entity="role", entity_id=role.id, changes=changes,
               summary=role_name, event="role.updated", payload={"name": role_name, "changes": changes})
        return role


def delete_role(ctx: Ctx, role_name: str) -> None:
    """Delete a custom role. Built-in roles stay (their grants can be changed); a role still
    given to users is refused, naming them, so nobody loses access by surprise."""
    require(ctx.actor, "roles.manage")
    with ctx.uow() as s:
        role = s.scalar(select(Role).where(col(Role.name) == role_name))
        if role is None:
            raise NotFound(f"no role named {role_name!r}")
        if role.builtin:
            raise ValidationError("invalid change", {"name": ["a built-in role cannot be deleted"]})
        holders = list(s.scalars(select(col(User.login)).join(UserRole, col(UserRole.user_id) == User.id)
                                 .where(col(UserRole.role_id) == role.id).order_by(col(User.login))))
        if holders:
            shown = ", ".join(holders[:10]) + (" …" if len(holders) > 10 else "")
            raise ValidationError("invalid change", {"name": [f"still given to: {shown}"]})
        grants = {g.action: g.scope for g in s.scalars(
            select(RoleGrant).where(col(RoleGrant.role_id) == role.id))}
        s.execute(delete(RoleGrant).where(col(RoleGrant.role_id) == role.id))
        s.delete(role)
        record(ctx, s, action="role.delete", entity="role", entity_id=role.id,
               changes={"name": [role_name, None], "grants": [grants, None]}, summary=role_name,
               event="role.deleted", payload={"name": role_name})


def set_user_roles(ctx: Ctx, login: str, roles: list[str]) -> None:
    require(ctx.actor, "roles.manage")
    with ctx.uow() as s:
        user = s.scalar(select(User).where(col(User.login) == login))
        if user is None:
            raise NotFound(f"no user {login!r}")
        found = {r.name: r for r in s.scalars(select(Role).where(col(Role.name).in_(roles)))}
        missing = [r for r in roles if r not in found]
        if missing:
            raise ValidationError("invalid roles", {"roles": [f"unknown role(s): {', '.join(missing)}"]})
        before = sorted(s.scalars(select(col(Role.name)).join(UserRole, col(UserRole.role_id) == Role.id)
                                  .where(col(UserRole.user_id) == user.id)))
        s.execute(delete(UserRole).where(col(UserRole.user_id) == user.id))
        for r in found.values():
            s.add(UserRole(user_id=row_id(user), role_id=row_id(r)))
        bump(user)
        record(ctx, s, action="user.roles", entity="user", entity_id=user.id,
               changes={"roles": [before, sorted(roles)]}, summary=login, event="user.updated",
               payload={"id": user.id, "changes": {"roles": [before, sorted(roles)]}})


@dataclass(frozen=True)
class AccessLine:
    action: str
    label: str
    plugin: str
    allowed: bool
    scope: str | None
    reasons: tuple[str, ...]


def effective_access(ctx: Ctx, login: str) -> tuple[Any, list[AccessLine]]:
    """Every active action with whether ``login`` has it, the scope and why."""
    if ctx.actor.login != login:
        require(ctx.actor, "users.manage")
    with ctx.reader() as s:
        user = s.scalar(select(User).where(col(User.login) == login))
        if user is None:
            raise NotFound(f"no user {login!r}")
        actor = load_actor(s, user)
    lines = []
    for name, (decl, plugin) in sorted(ctx.kernel.actions.items()):
        if not ctx.kernel.is_active(plugin):
            continue
        g = actor.grants.get(name)
        reasons = g.reasons if g else (
            ("user is disabled",) if not user.is_active else ("no role of this user grants it",))
        label = decl.label_en if actor.locale == "en" and decl.label_en else decl.label
        lines.append(AccessLine(name, label, plugin, g is not None,
                                (g.scope if g else None), reasons))
    return actor, lines
