"""Users and teams."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import delete, select
from sqlmodel import col

from crm_core.context import Ctx
from crm_core.db import utcnow
from crm_core.errors import NotFound, ValidationError
from crm_core.models import Role, Team, TeamMember, User, UserRole
from crm_core.models.base import row_id
from crm_core.normalize import FormatError, normalize_email
from crm_core.passwords import hash_password, verify_password
from crm_core.permissions.actor import Actor, load_actor
from crm_core.permissions.scope import require
from crm_core.services.base import bump, parse, record

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


def create_user(ctx: Ctx, data: UserCreate | dict[str, Any], roles: Sequence[str] = (),
                team: str | None = None) -> User:
    require(ctx.actor, "users.manage")
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


def set_active(ctx: Ctx, login: str, active: bool) -> None:
    require(ctx.actor, "users.manage")
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
