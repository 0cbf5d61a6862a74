"""``crm tokens …``: API tokens (bearer tokens) for scripts and integrations."""

from __future__ import annotations

import click

from crm_core.cli.output import print_table, say
from crm_core.cli.state import CliState, pass_state
from crm_core.services import auth as auth_svc


@click.group()
def tokens() -> None:
    """API tokens: `Authorization: Bearer <token>`, acting as their user with that user's roles."""


@tokens.command("create")
@click.argument("login")
@click.option("--name", default="", help="What the token is for (shown in `crm tokens list`).")
@click.option("--expires-days", type=click.IntRange(1, 3650), default=None,
              help="Days until it stops working (default: never).")
@pass_state
def create(state: CliState, login: str, name: str, expires_days: int | None) -> None:
    """Create a token for LOGIN; the token is printed once, alone on the last line."""
    row, raw = auth_svc.create_token(state.ctx(), login, name=name, expires_days=expires_days)
    expires = row.expires_at.strftime("%Y-%m-%d %H:%M UTC") if row.expires_at else "never"
    say(f"API token {row.id} for {login} created (expires: {expires}). Store it now: it is not "
        "shown again.")
    click.echo(raw)


@tokens.command("list")
@click.argument("login", required=False)
@pass_state
def list_cmd(state: CliState, login: str | None) -> None:
    """Tokens of LOGIN (default: everyone's), newest first."""

    def when(value: object) -> str:
        return value.strftime("%Y-%m-%d %H:%M") if hasattr(value, "strftime") else ""

    rows = [[t.id, owner, t.name, t.prefix + "…", when(t.created_at), when(t.expires_at),
             when(t.last_used_at), auth_svc.token_status(t)]
            for t, owner in auth_svc.list_tokens(state.ctx(), login)]
    print_table(["id", "login", "name", "prefix", "created (UTC)", "expires", "last used", "status"],
                rows, empty="No API tokens.")


@tokens.command("revoke")
@click.argument("token_id", metavar="ID", type=int)
@pass_state
def revoke(state: CliState, token_id: int) -> None:
    """Revoke token ID (it stops working at once)."""
    auth_svc.revoke_token(state.ctx(), token_id)
    say(f"API token {token_id} revoked")
