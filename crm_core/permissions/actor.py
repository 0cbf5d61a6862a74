"""Who is acting, and what they may do — computed once per request from roles and teams."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from crm_core.declarations import SCOPE_RANK
from crm_core.models import Role, RoleGrant, Team, TeamMember, User, UserRole
from crm_core.models.base import id_col


@dataclass(frozen=True)
class Grant:
    action: str
    scope: str | None  # None for actions without records
    reasons: tuple[str, ...]  # "role sales_manager grants … with scope team"


@dataclass(frozen=True)
class Actor:
    id: int | None
    login: str
    display_name: str = ""
    locale: str = "zh_CN"
    timezone: str = "Asia/Shanghai"
    roles: tuple[str, ...] = ()
    team_ids: tuple[int, ...] = ()  # teams the actor belongs to or manages
    grants: dict[str, Grant] = field(default_factory=dict)
    is_system: bool = False

    def can(self, action: str) -> bool:
        return self.is_system or action in self.grants

    def scope(self, action: str) -> str | None:
        """The widest scope this actor has for ``action`` (``None`` = not allowed)."""
        if self.is_system:
            return "all"
        g = self.grants.get(action)
        if g is None:
            return None
        return g.scope or "all"


SYSTEM = Actor(id=None, login="system", display_name="System", is_system=True)


@dataclass(frozen=True)
class Access:
    """What a user's roles and teams give them — the part of an :class:`Actor` that the
    permissions epoch (:mod:`crm_core.permissions.cache`) may cache."""

    roles: tuple[str, ...]
    team_ids: tuple[int, ...]
    grants: dict[str, Grant]


def load_access(session: Session, user_id: int | None) -> Access:
    """The roles, teams and grants of user ``user_id`` (two statements)."""
    rows = session.execute(
        select(col(Role.name), col(RoleGrant.action), col(RoleGrant.scope))
        .join(UserRole, col(UserRole.role_id) == Role.id)
        .outerjoin(RoleGrant, col(RoleGrant.role_id) == Role.id)
        .where(col(UserRole.user_id) == user_id)
        .order_by(col(Role.name))
    ).all()
    roles: list[str] = []
    best: dict[str, tuple[str | None, list[str]]] = {}
    for role, action, scope in rows:
        if role not in roles:
            roles.append(role)
        if action is None:
            continue
        reason = f"role {role} grants {action}" + (f" with scope {scope}" if scope else "")
        cur = best.get(action)
        if cur is None:
            best[action] = (scope, [reason])
            continue
        cur_scope, reasons = cur
        reasons.append(reason)
        if scope and (cur_scope is None or SCOPE_RANK[scope] > SCOPE_RANK[cur_scope]):
            best[action] = (scope, reasons)
    team_ids = sorted(
        set(
            session.scalars(
                select(id_col(Team))
                .outerjoin(TeamMember, col(TeamMember.team_id) == Team.id)
                .where(or_(col(TeamMember.user_id) == user_id, col(Team.manager_id) == user_id))
            ).all()
        )
    )
    grants = {a: Grant(a, s, tuple(r)) for a, (s, r) in best.items()}
    return Access(tuple(roles), tuple(team_ids), grants)


def actor_of(user: User, access: Access) -> Actor:
    """The actor of ``user`` with ``access`` (no grants while the user is disabled)."""
    return Actor(
        id=user.id,
        login=user.login,
        display_name=user.display_name,
        locale=user.locale,
        timezone=user.timezone,
        roles=access.roles,
        team_ids=access.team_ids,
        grants=access.grants if user.is_active else {},
    )


def load_actor(session: Session, user: User) -> Actor:
    return actor_of(user, load_access(session, user.id))
