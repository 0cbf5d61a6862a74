"""``crm users …`` and ``crm teams …``: accounts, roles, effective access, teams."""

from __future__ import annotations

import click

from crm_core.cli.output import print_table, say
from crm_core.cli.state import CLIError, CliState, pass_state
from crm_core.services import roles as role_svc
from crm_core.services import users as user_svc


@click.group()
def users() -> None:
    """User accounts, their roles and what they may do."""


@users.command("add")
@click.argument("login")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="At least 8 characters (asked for, hidden, when omitted).")
@click.option("--role", "roles", multiple=True, required=True, metavar="ROLE",
              help="A role name (repeat for several); see `crm users roles --help`.")
@click.option("--team", default=None, help="Team the user joins.")
@click.option("--name", "display_name", default="", help="Display name (default: the login).")
@click.option("--email", default=None)
@click.option("--locale", type=click.Choice(user_svc.LOCALES), default=None,
              help="UI language (default: settings.default_locale).")
@pass_state
def add(state: CliState, login: str, password: str, roles: tuple[str, ...], team: str | None,
        display_name: str, email: str | None, locale: str | None) -> None:
    """Create a user."""
    ctx = state.ctx()
    user = user_svc.create_user(ctx, {
        "login": login, "password": password, "display_name": display_name, "email": email,
        "locale": locale or state.settings().default_locale,
        "timezone": state.settings().default_timezone,
    }, roles=list(roles), team=team)
    say(f"User {user.login} created with role(s) {', '.join(roles)}"
        + (f" in team {team}" if team else ""))


@users.command("list")
@pass_state
def list_cmd(state: CliState) -> None:
    """Every user with roles and teams."""
    rows = [[u.login, u.display_name, ", ".join(r), ", ".join(t), u.is_active, u.locale]
            for u, r, t in user_svc.list_users(state.ctx())]
    print_table(["login", "name", "roles", "teams", "active", "locale"], rows,
                empty="No users yet: run `crm init`.")


@users.command("passwd")
@click.argument("login")
@click.option("--password", prompt="New password", hide_input=True, confirmation_prompt=True,
              help="The new password (asked for, hidden, when omitted).")
@pass_state
def passwd(state: CliState, login: str, password: str) -> None:
    """Set a user's password."""
    user_svc.set_password(state.ctx(), login, password)
    say(f"Password of {login} changed")


@users.command("roles")
@click.argument("login")
@click.argument("roles", nargs=-1, required=True)
@pass_state
def set_roles(state: CliState, login: str, roles: tuple[str, ...]) -> None:
    """Replace a user's roles with ROLES."""
    ctx = state.ctx()
    known = {r.name for r in role_svc.list_roles(ctx)}
    unknown = [r for r in roles if r not in known]
    if unknown:
        raise CLIError(f"unknown role(s) {', '.join(unknown)}; roles: {', '.join(sorted(known))}")
    role_svc.set_user_roles(ctx, login, list(dict.fromkeys(roles)))
    say(f"Roles of {login}: {', '.join(dict.fromkeys(roles))}")


@users.command("access")
@click.argument("login")
@click.option("--granted", is_flag=True, help="Only the permissions the user has.")
@pass_state
def access(state: CliState, login: str, granted: bool) -> None:
    """Every active permission: allowed or not, with which scope, and why."""
    ctx = state.ctx()
    actor, lines = role_svc.effective_access(ctx, login)
    team_names = {t.id: t.name for t, _m in user_svc.list_teams(ctx)}
    teams = ", ".join(team_names.get(i, str(i)) for i in actor.team_ids) or "-"
    say(f"{actor.login} ({actor.display_name}) — roles: {', '.join(actor.roles) or '-'}; "
        f"teams: {teams}")
    rows = [[ln.action, ln.label, ln.plugin, "yes" if ln.allowed else "no", ln.scope or "",
             "; ".join(ln.reasons)] for ln in lines if ln.allowed or not granted]
    print_table(["permission", "label", "plugin", "allowed", "scope", "reasons"], rows)


@users.command("disable")
@click.argument("login")
@pass_state
def disable(state: CliState, login: str) -> None:
    """Disable a user (can't log in; their records stay)."""
    user_svc.set_active(state.ctx(), login, False)
    say(f"User {login} disabled")


@users.command("enable")
@click.argument("login")
@pass_state
def enable(state: CliState, login: str) -> None:
    """Enable a disabled user again."""
    user_svc.set_active(state.ctx(), login, True)
    say(f"User {login} enabled")


@click.group()
def teams() -> None:
    """Teams (record scope `team` covers the customers of a team's members)."""


@teams.command("add")
@click.argument("name")
@click.option("--manager", default=None, metavar="LOGIN", help="The team's manager.")
@pass_state
def team_add(state: CliState, name: str, manager: str | None) -> None:
    """Create a team."""
    team = user_svc.create_team(state.ctx(), name, manager=manager)
    say(f"Team {team.name} created" + (f" with manager {manager}" if manager else ""))


@teams.command("list")
@pass_state
def team_list(state: CliState) -> None:
    """Every team with its manager and members."""
    ctx = state.ctx()
    logins = {u.id: u.login for u, _r, _t in user_svc.list_users(ctx)}
    rows = [[t.name, logins.get(t.manager_id, "") if t.manager_id else "", ", ".join(m)]
            for t, m in user_svc.list_teams(ctx)]
    print_table(["team", "manager", "members"], rows, empty="No teams yet.")


@teams.command("members")
@click.argument("team")
@click.option("--add", "add_logins", multiple=True, metavar="LOGIN", help="Add a member (repeatable).")
@click.option("--remove", "remove_logins", multiple=True, metavar="LOGIN",
              help="Remove a member (repeatable).")
@pass_state
def members(state: CliState, team: str, add_logins: tuple[str, ...],
            remove_logins: tuple[str, ...]) -> None:
    """Change a team's members, then list them."""
    ctx = state.ctx()
    for login in add_logins:
        user_svc.set_membership(ctx, team, login, True)
    for login in remove_logins:
        user_svc.set_membership(ctx, team, login, False)
    found = [m for t, m in user_svc.list_teams(ctx) if t.name == team]
    if not found:
        raise CLIError(f"no team {team!r}")
    say(f"Members of {team}: {', '.join(found[0]) or '(none)'}")
