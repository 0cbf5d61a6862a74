"""Users and teams."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from crm_core.context import Ctx
from crm_core.db import contains_ci, utcnow
from crm_core.errors import NotFound, ValidationError
from crm_core.models import Role, Team, TeamMember, User, UserRole
from crm_core.models.base import row_id
from crm_core.normalize import FormatError, normalize_email
from crm_core.passwords import hash_password, verify_password
from crm_core.permissions.actor import Actor, load_actor
from crm_core.permissions.scope import require
from crm_core.services.base import (
    Page,
    bump,
    changes_between,
    check_version,
    clamp_limit,
    decode_cursor,
    encode_cursor,
    parse,
    record,
)

_LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
LOCALES = ("zh_CN", "en")


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    login: str
    password: str = Field(repr=False)
    display_name: str = ""
    email: str | None = None
    locale: str = "zh_CN"
    timezone: str = "Asia/Shanghai"

    @field_validator("login")
    @classmethod
    def _login(cls, v: str) -> str:
        v = v.lower()
        if not _LOGIN.fullmatch(v):
            raise ValueError("2–64 lowercase letters, digits, '.', '_' or '-'")
        return v

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if not v:
            return None
        try:
            return normalize_email(v)
        except FormatError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("locale")
    @classmethod
    def _locale(cls, v: str) -> str:
        if v not in LOCALES:
            raise ValueError(f"one of {', '.join(LOCALES)}")
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("unknown time zone") from None
        return v


class UserUpdate(BaseModel):
    """What an admin may change on a user (login, password, roles and state have their own
    functions)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    display_name: str | None = Field(default=None, min_length=1, max_length=120)
    email: str | None = None
    locale: str | None = None
    timezone: str | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        return UserCreate._email(v)

    @field_validator("locale")
    @classmethod
    def _locale(cls, v: str | None) -> str | None:
        return None if v is None else UserCreate._locale(v)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str | None) -> str | None:
        return None if v is None else UserCreate._tz(v)


def create_user(ctx: Ctx, data: UserCreate | dict[str, Any], roles: Sequence[str] = (),
                team: str | None = None) -> User:
    """A new user. Giving roles is a role change: it also needs ``roles.manage``."""
    require(ctx.actor, "users.manage")
    if roles:
        require(ctx.actor, "roles.manage")
    d = parse(UserCreate, data)
    pw_hash = hash_password(d.password)
    with ctx.uow() as s:
        if s.scalar(select(col(User.id)).where(col(User.login) == d.login)):
            raise ValidationError("invalid user", {"login": [f"login {d.login!r} is taken"]})
        found = {r.name: r for r in s.scalars(select(Role).where(col(Role.name).in_(list(roles))))}
        missing = [r for r in roles if r not in found]
        if missing:
            raise ValidationError("invalid user", {"roles": [f"unknown role(s): {', '.join(missing)}"]})
        team_row = None
        if team:
            team_row = s.scalar(select(Team).where(col(Team.name) == team))
            if team_row is None:
                raise ValidationError("invalid user", {"team": [f"no team named {team!r}"]})
        user = User(login=d.login, display_name=d.display_name or d.login, email=d.email,
                    password_hash=pw_hash, locale=d.locale, timezone=d.timezone,
                    password_changed_at=utcnow())
        s.add(user)
        s.flush()
        for r in found.values():
            s.add(UserRole(user_id=row_id(user), role_id=row_id(r)))
        if team_row:
            s.add(TeamMember(team_id=row_id(team_row), user_id=row_id(user)))
        info = {"login": d.login, "display_name": user.display_name, "roles": sorted(found),
                "team": team}
        record(ctx, s, action="user.create", entity="user", entity_id=user.id,
               changes={k: [None, v] for k, v in info.items() if v}, summary=d.login,
               event="user.created", payload={"id": user.id, **info})
        return user


def get_user(ctx: Ctx, login: str) -> User:
    with ctx.reader() as s:
        user = s.scalar(select(User).where(col(User.login) == login))
        if user is None:
            raise NotFound(f"no user {login!r}")
        return user


def list_users(ctx: Ctx) -> list[tuple[User, list[str], list[str]]]:
    """(user, role names, team names) for every user."""
    with ctx.reader() as s:
        users = list(s.scalars(select(User).order_by(col(User.login))))
        roles: dict[int, list[str]] = {}
        for uid, name in s.execute(select(col(UserRole.user_id), col(Role.name))
                                   .join(Role, col(Role.id) == UserRole.role_id).order_by(col(Role.name))):
            roles.setdefault(uid, []).append(name)
        teams: dict[int, list[str]] = {}
        for uid, name in s.execute(select(col(TeamMember.user_id), col(Team.name))
                                   .join(Team, col(Team.id) == TeamMember.team_id).order_by(col(Team.name))):
            teams.setdefault(uid, []).append(name)
    return [(u, roles.get(u.id or 0, []), teams.get(u.id or 0, [])) for u in users]


def list_users_page(
    ctx: Ctx, q: str | None = None, active: bool | None = None, cursor: str | None = None,
    limit: int | None = None, login: str | None = None,
) -> Page[tuple[User, list[str], list[str]]]:
    """One keyset page of users by login, with their role and team names (``users.manage``).
    ``q`` matches part of the login or the display name, ``login`` exactly."""
    require(ctx.actor, "users.manage")
    limit = clamp_limit(limit)
    stmt = select(User)
    if login is not None:
        stmt = stmt.where(col(User.login) == login)
    if q:
        stmt = stmt.where(or_(contains_ci(User.login, q), contains_ci(User.display_name, q)))
    if active is not None:
        stmt = stmt.where(col(User.is_active).is_(active))
    if cursor:
        (last,) = decode_cursor(cursor, 1)
        if not isinstance(last, str) or "\x00" in last:
            raise ValidationError("invalid cursor", {"cursor": ["not a cursor from a previous page"]})
        stmt = stmt.where(col(User.login) > last)
    with ctx.reader() as s:
        users = list(s.scalars(stmt.order_by(col(User.login)).limit(limit + 1)))
        more = len(users) > limit
        users = users[:limit]
        ids = [row_id(u) for u in users]
        roles: dict[int, list[str]] = {}
        for uid, name in s.execute(select(col(UserRole.user_id), col(Role.name))
                                   .join(Role, col(Role.id) == UserRole.role_id)
                                   .where(col(UserRole.user_id).in_(ids)).order_by(col(Role.name))):
            roles.setdefault(uid, []).append(name)
        teams: dict[int, list[str]] = {}
        for uid, name in s.execute(select(col(TeamMember.user_id), col(Team.name))
                                   .join(Team, col(Team.id) == TeamMember.team_id)
                                   .where(col(TeamMember.user_id).in_(ids)).order_by(col(Team.name))):
            teams.setdefault(uid, []).append(name)
    items = [(u, roles.get(row_id(u), []), teams.get(row_id(u), [])) for u in users]
    return Page(items, encode_cursor([users[-1].login]) if more and users else None, limit)


def set_password(ctx: Ctx, login: str, new_password: str, old_password: str | None = None) -> None:
    """Admins reset anyone's password; a user changes their own with the old one."""
    own = ctx.actor.login == login
    if not own:
        require(ctx.actor, "users.manage")
    pw_hash = hash_password(new_password)
    with ctx.uow() as s:
        user = s.scalar(select(User).where(col(User.login) == login))
        if user is None:
            raise NotFound(f"no user {login!r}")
        if own and not ctx.actor.is_system and (
                old_password is None or not verify_password(user.password_hash, old_password)):
            raise ValidationError("wrong password", {"old_password": ["is not your password"]})
        user.password_hash = pw_hash
        user.password_changed_at = utcnow()
        bump(user)
        record(ctx, s, action="user.password", entity="user", entity_id=user.id,
               changes={"password": ["(hidden)", "(changed)"]}, summary=login,
               event="user.password_changed", payload={"id": user.id, "login": login})


def update_user(ctx: Ctx, login: str, data: UserUpdate | dict[str, Any],
                version: int | None = None) -> User:
    """Change a user's display name, email, language or time zone (audited)."""
    require(ctx.actor, "users.manage")
    upd = parse(UserUpdate, data).model_dump(exclude_unset=True)
    nulls = {k: ["cannot be empty"] for k, v in upd.items() if v is None and k != "email"}
    if nulls:
        raise ValidationError("invalid user", nulls)
    with ctx.uow() as s:
        user = s.scalar(select(User).where(col(User.login) == login))
        if user is None:
            raise NotFound(f"no user {login!r}")
        check_version(user, version, "user")
        changes = changes_between({k: getattr(user, k) for k in upd}, upd)
        if not changes:
            return user
        for k, v in upd.items():
            setattr(user, k, v)
        bump(user)
        record(ctx, s, action="user.update", entity="user", entity_id=user.id, changes=changes,
               summary=login, event="user.updated", payload={"id": user.id, "changes": changes})
        return user


def set_active(ctx: Ctx, login: str, active: bool) -> None:
    """Disable (every grant and session gone at once, data kept) or enable a user. Nobody
    disables their own account: an admin could lock everyone out."""
    require(ctx.actor, "users.manage")
    if not active and ctx.actor.login == login and not ctx.actor.is_system:
        raise ValidationError("invalid change", {"is_active": ["you cannot disable your own account"]})
    with ctx.uow() as s:
        user = s.scalar(select(User).where(col(User.login) == login))
        if user is None:
            raise NotFound(f"no user {login!r}")
        if user.is_active == active:
            return
        user.is_active = active
        bump(user)
        record(ctx, s, action="user.enable" if active else "user.disable", entity="user",
               entity_id=user.id, changes={"is_active": [not active, active]}, summary=login,
               event="user.updated",
               payload={"id": user.id, "changes": {"is_active": [not active, active]}})


def authenticate(ctx: Ctx, login: str, password: str) -> Actor | None:
    with ctx.reader() as s:
        user = s.scalar(select(User).where(col(User.login) == login.strip().lower()))
        if user is None:
            verify_password("$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g", password)
            return None
        if not user.is_active or not verify_password(user.password_hash, password):
            return None
        return load_actor(s, user)


def actor_for(ctx: Ctx, login: str) -> Actor:
    with ctx.reader() as s:
        user = s.scalar(select(User).where(col(User.login) == login))
        if user is None:
            raise NotFound(f"no user {login!r}")
        return load_actor(s, user)


# --- teams -------------------------------------------------------------------------------
def create_team(ctx: Ctx, name: str, manager: str | None = None) -> Team:
    require(ctx.actor, "teams.manage")
    name = (name or "").strip()
    if not name:
        raise ValidationError("invalid team", {"name": ["cannot be empty"]})
    with ctx.uow() as s:
        if s.scalar(select(col(Team.id)).where(col(Team.name) == name)):
            raise ValidationError("invalid team", {"name": [f"a team {name!r} already exists"]})
        manager_id = None
        if manager:
            manager_id = s.scalar(select(col(User.id)).where(col(User.login) == manager))
            if manager_id is None:
                raise ValidationError("invalid team", {"manager": [f"no user {manager!r}"]})
        team = Team(name=name, manager_id=manager_id)
        s.add(team)
        s.flush()
        record(ctx, s, action="team.create", entity="team", entity_id=team.id,
               changes={"name": [None, name], "manager": [None, manager]}, summary=name,
               event="team.created", payload={"id": team.id, "name": name})
        return team


def _team(s: Session, name: str) -> Team:
    t = s.scalar(select(Team).where(col(Team.name) == name))
    if t is None:
        raise NotFound(f"no team {name!r}")
    return t


def set_team_manager(ctx: Ctx, team: str, manager: str | None) -> None:
    """Give a team a manager (``None``: no manager). A manager sees the team's records like a
    member does."""
    require(ctx.actor, "teams.manage")
    with ctx.uow() as s:
        t = _team(s, team)
        manager_id = None
        if manager:
            manager_id = s.scalar(select(col(User.id)).where(col(User.login) == manager))
            if manager_id is None:
                raise ValidationError("invalid team", {"manager": [f"no user {manager!r}"]})
        if t.manager_id == manager_id:
            return
        before = None
        if t.manager_id is not None:
            before = s.scalar(select(col(User.login)).where(col(User.id) == t.manager_id))
        t.manager_id = manager_id
        bump(t)
        record(ctx, s, action="team.manager", entity="team", entity_id=t.id,
               changes={"manager": [before, manager or None]}, summary=team, event="team.updated",
               payload={"id": t.id, "manager": manager or None})


def delete_team(ctx: Ctx, team: str) -> None:
    """Remove a team: its members stay users, they just no longer share its records."""
    require(ctx.actor, "teams.manage")
    with ctx.uow() as s:
        t = _team(s, team)
        members = sorted(s.scalars(select(col(User.login))
                                   .join(TeamMember, col(TeamMember.user_id) == User.id)
                                   .where(col(TeamMember.team_id) == t.id)))
        s.execute(delete(TeamMember).where(col(TeamMember.team_id) == t.id))
        s.delete(t)
        record(ctx, s, action="team.delete", entity="team", entity_id=t.id,
               changes={"name": [team, None], "members": [members, None]}, summary=team,
               event="team.deleted", payload={"id": t.id, "name": team})


def set_membership(ctx: Ctx, team: str, login: str, member: bool) -> None:
    require(ctx.actor, "teams.manage")
    with ctx.uow() as s:
        t = s.scalar(select(Team).where(col(Team.name) == team))
        u = s.scalar(select(User).where(col(User.login) == login))
        if t is None or u is None:
            raise NotFound(f"no team {team!r}" if t is None else f"no user {login!r}")
        exists = s.get(TeamMember, (t.id, u.id))
        if member and not exists:
            s.add(TeamMember(team_id=row_id(t), user_id=row_id(u)))
        elif not member and exists:
            s.execute(delete(TeamMember).where(col(TeamMember.team_id) == t.id,
                                               col(TeamMember.user_id) == u.id))
        else:
            return
        record(ctx, s, action="team.join" if member else "team.leave", entity="team",
               entity_id=t.id, changes={"member": [None if member else login,
                                                   login if member else None]},
               summary=f"{login} {'→' if member else '←'} {team}", event="team.updated",
               payload={"id": t.id, "login": login, "member": member})


def list_teams(ctx: Ctx) -> list[tuple[Team, list[str]]]:
    with ctx.reader() as s:
        teams = list(s.scalars(select(Team).order_by(col(Team.name))))
        members: dict[int, list[str]] = {}
        for tid, login in s.execute(select(col(TeamMember.team_id), col(User.login))
                                    .join(User, col(User.id) == TeamMember.user_id)
                                    .order_by(col(User.login))):
            members.setdefault(tid, []).append(login)
    return [(t, members.get(t.id or 0, [])) for t in teams]
