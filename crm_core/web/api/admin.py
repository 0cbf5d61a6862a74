"""Users, teams and roles (administrators). Changes to users and roles need the password again
(their permissions are sensitive); every change is audited by the services."""

from __future__ import annotations

from collections.abc import Callable

from crm_core.errors import NotFound
from crm_core.models import Role, Team, User
from crm_core.services import roles as roles_svc
from crm_core.services import users as users_svc
from crm_core.web.api.models import (
    AccessLineRead,
    AccessRead,
    GrantsSet,
    IdPath,
    LoginPath,
    MemberPath,
    PasswordSet,
    RoleCreate,
    RoleList,
    RolePath,
    RoleRead,
    TeamCreate,
    TeamList,
    TeamRead,
    UserCreate,
    UserListQuery,
    UserPage,
    UserRead,
    UserRolesSet,
    UserUpdate,
)
from crm_core.web.api.operations import API, REAUTH_HELP, Call, Op, readable
from crm_core.web.routing import AUTHENTICATED


# --- users -----------------------------------------------------------------------------------
def user_read(user: User, roles: list[str], teams: list[str]) -> UserRead:
    return UserRead(id=user.id, login=user.login, display_name=user.display_name, email=user.email,
                    locale=user.locale, timezone=user.timezone, is_active=user.is_active,
                    roles=roles, teams=teams, version=user.version, created_at=user.created_at,
                    updated_at=user.updated_at)


def _user(c: Call, login: str) -> UserRead:
    for user, roles, teams in users_svc.list_users_page(c.ctx, login=login).items:
        return user_read(user, roles, teams)
    raise NotFound(f"no user {login!r}")


def list_users(c: Call) -> UserPage:
    q = c.query
    page = users_svc.list_users_page(c.ctx, q=q.q, active=q.active, cursor=q.cursor, limit=q.limit)
    return UserPage(items=[user_read(*row) for row in page.items], next_cursor=page.next_cursor,
                    limit=page.limit)


def create_user(c: Call) -> UserRead:
    data = c.body.model_dump(exclude={"roles", "team"})
    user = users_svc.create_user(c.ctx, data, roles=c.body.roles, team=c.body.team)
    return _user(c, user.login)


def get_user(c: Call) -> UserRead:
    return _user(c, c.path.login)


def update_user(c: Call) -> UserRead:
    users_svc.update_user(c.ctx, c.path.login, c.body, version=c.version)
    return _user(c, c.path.login)


def set_active(active: bool) -> Callable[[Call], UserRead]:
    def handler(c: Call) -> UserRead:
        users_svc.set_active(c.ctx, c.path.login, active)
        return _user(c, c.path.login)

    return handler


def set_password(c: Call) -> None:
    users_svc.set_password(c.ctx, c.path.login, c.body.password)


def set_user_roles(c: Call) -> UserRead:
    roles_svc.set_user_roles(c.ctx, c.path.login, c.body.roles)
    return _user(c, c.path.login)


def user_access(c: Call) -> AccessRead:
    actor, lines = roles_svc.effective_access(c.ctx, c.path.login)
    return AccessRead(login=actor.login, roles=list(actor.roles), access=[
        AccessLineRead(action=a.action, label=a.label, plugin=a.plugin, allowed=a.allowed,
                       scope=a.scope, reasons=list(a.reasons)) for a in lines])


# --- teams -----------------------------------------------------------------------------------
def team_read(team: Team, members: list[str]) -> TeamRead:
    return TeamRead(id=team.id, name=team.name, manager_id=team.manager_id, members=members,
                    version=team.version, created_at=team.created_at, updated_at=team.updated_at)


def _team(c: Call, team_id: int) -> TeamRead:
    for team, members in users_svc.list_teams(c.ctx):
        if team.id == team_id:
            return team_read(team, members)
    raise NotFound(f"team {team_id} not found")


def list_teams(c: Call) -> TeamList:
    return TeamList(items=[team_read(t, m) for t, m in users_svc.list_teams(c.ctx)])


def create_team(c: Call) -> TeamRead:
    team = users_svc.create_team(c.ctx, c.body.name, c.body.manager)
    return _team(c, team.id or 0)


def get_team(c: Call) -> TeamRead:
    return _team(c, c.path.id)


def set_member(member: bool) -> Callable[[Call], TeamRead]:
    def handler(c: Call) -> TeamRead:
        team = _team(c, c.path.id)
        users_svc.set_membership(c.ctx, team.name, c.path.login, member)
        return _team(c, c.path.id)

    return handler


# --- roles -----------------------------------------------------------------------------------
def role_read(c: Call, role: Role) -> RoleRead:
    return RoleRead(id=role.id, name=role.name, label=role.label, label_en=role.label_en,
                    description=role.description, builtin=role.builtin,
                    grants=dict(sorted(roles_svc.role_grants(c.ctx, role.name).items())),
                    version=role.version, created_at=role.created_at, updated_at=role.updated_at)


def _role(c: Call, name: str) -> RoleRead:
    for role in roles_svc.list_roles(c.ctx):
        if role.name == name:
            return role_read(c, role)
    raise NotFound(f"no role named {name!r}")


def list_roles(c: Call) -> RoleList:
    return RoleList(items=[role_read(c, r) for r in roles_svc.list_roles(c.ctx)])


def create_role(c: Call) -> RoleRead:
    b = c.body
    role = roles_svc.create_role(c.ctx, b.name, b.label, dict(b.grants), label_en=b.label_en,
                                 description=b.description)
    return _role(c, role.name)


def get_role(c: Call) -> RoleRead:
    return _role(c, c.path.name)


def set_grants(c: Call) -> RoleRead:
    roles_svc.set_grants(c.ctx, c.path.name, dict(c.body.grants))
    return _role(c, c.path.name)


def operations() -> list[Op]:
    u, one = f"{API}/users", f"{API}/users/{{login}}"
    t, r = f"{API}/teams", f"{API}/roles"
    user = readable(UserRead)
    team = readable(TeamRead)
    role = readable(RoleRead)
    return [
        Op("GET", u, "listUsers", "List users", "users", "users.manage", list_users,
           "By login, keyset pages.", query_model=UserListQuery, response_model=UserPage),
        Op("POST", u, "createUser", "Create a user", "users", "users.manage", create_user,
           REAUTH_HELP + " Giving roles also needs roles.manage.", body_model=UserCreate, status=201,
           location=f"{u}/{{login}}", reauth=True, **user),
        Op("GET", one, "getUser", "Read a user", "users", "users.manage", get_user,
           path_model=LoginPath, **user),
        Op("PATCH", one, "updateUser", "Change a user's name, email, language or time zone",
           "users", "users.manage", update_user, REAUTH_HELP + " Needs `If-Match`.",
           path_model=LoginPath, body_model=UserUpdate, if_match="required", reauth=True, **user),
        Op("POST", f"{one}/enable", "enableUser", "Enable a user", "users", "users.manage",
           set_active(True), REAUTH_HELP, path_model=LoginPath, reauth=True, **user),
        Op("POST", f"{one}/disable", "disableUser", "Disable a user",
           "users", "users.manage", set_active(False),
           "Their sessions and tokens stop working at once; their data stays. " + REAUTH_HELP,
           path_model=LoginPath, reauth=True, **user),
        Op("PUT", f"{one}/password", "setUserPassword", "Set a user's password", "users",
           "users.manage", set_password, "Ends the user's browser sessions. " + REAUTH_HELP,
           path_model=LoginPath, body_model=PasswordSet, reauth=True, status=204),
        Op("PUT", f"{one}/roles", "setUserRoles", "Set a user's roles", "users", "roles.manage",
           set_user_roles, "Replaces the user's roles. " + REAUTH_HELP, path_model=LoginPath,
           body_model=UserRolesSet, reauth=True, **user),
        Op("GET", f"{one}/access", "getUserAccess", "A user's effective access", "users",
           AUTHENTICATED, user_access, "Every permission with its scope and why (your own, or "
           "anyone's with users.manage).", path_model=LoginPath, response_model=AccessRead),
        Op("GET", t, "listTeams", "List teams", "teams", "teams.manage", list_teams,
           response_model=TeamList),
        Op("POST", t, "createTeam", "Create a team", "teams", "teams.manage", create_team,
           body_model=TeamCreate, status=201, location=f"{t}/{{id}}", **team),
        Op("GET", f"{t}/{{id:int}}", "getTeam", "Read a team", "teams", "teams.manage", get_team,
           path_model=IdPath, **team),
        Op("PUT", f"{t}/{{id:int}}/members/{{login}}", "addTeamMember", "Add a member",
           "teams", "teams.manage", set_member(True), path_model=MemberPath, **team),
        Op("DELETE", f"{t}/{{id:int}}/members/{{login}}", "removeTeamMember", "Remove a member",
           "teams", "teams.manage", set_member(False), path_model=MemberPath, **team),
        Op("GET", r, "listRoles", "List roles with their grants", "roles", "roles.manage",
           list_roles, response_model=RoleList),
        Op("POST", r, "createRole", "Create a role", "roles", "roles.manage", create_role,
           REAUTH_HELP, body_model=RoleCreate, status=201, location=f"{r}/{{name}}", reauth=True,
           **role),
        Op("GET", f"{r}/{{name}}", "getRole", "Read a role", "roles", "roles.manage", get_role,
           path_model=RolePath, **role),
        Op("PUT", f"{r}/{{name}}/grants", "setRoleGrants", "Replace a role's grants", "roles",
           "roles.manage", set_grants,
           "Every holder of the role gets the new grants at their next request. " + REAUTH_HELP,
           path_model=RolePath, body_model=GrantsSet, reauth=True, **role),
    ]
