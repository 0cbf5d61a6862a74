"""The ``crm`` command line: setup, server, worker, demo data, plugins, users, teams, customers.

A user's mistake (a :class:`~crm_core.errors.CRMError`, an unreachable or uninitialised
database) prints one ``Error: …`` line on stderr and exits with status 1; click's own usage
errors exit with status 2. Enabled plugins add their commands as ``crm <plugin> …``.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError

from crm_core import __version__
from crm_core.cli.state import CLIError, CliState
from crm_core.errors import CRMError

log = logging.getLogger("crm.cli")


def _database_message(exc: OperationalError | ProgrammingError, state: CliState | None) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    lowered = text.lower()
    if "no such table" in lowered or ("relation" in lowered and "does not exist" in lowered):
        return f"the database has no CRM tables yet ({text}): run `crm init` first"
    where = ""
    try:
        if state is not None:
            where = " " + make_url(state.settings().database_url).render_as_string(hide_password=True)
    except Exception:  # the message matters more than the URL
        where = ""
    return f"cannot use the database{where}: {text}"


class CRMGroup(click.Group):
    """The root group: maps domain errors to one line, adds the enabled plugins' commands."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CRMError as exc:
            raise CLIError(str(exc)) from None
        except (OperationalError, ProgrammingError) as exc:
            raise CLIError(_database_message(exc, ctx.find_object(CliState))) from None

    def _state(self, ctx: click.Context) -> CliState:
        state = ctx.ensure_object(CliState)
        if ctx.params.get("config_file"):
            state.config_file = ctx.params["config_file"]
        ctx.call_on_close(state.close)
        return state

    def plugin_commands(self, ctx: click.Context) -> dict[str, click.Command]:
        state = self._state(ctx)
        if state.plugin_commands is not None:
            return state.plugin_commands
        kernel = state.kernel(start=False)  # listing commands (help) doesn't start plugins
        out: dict[str, click.Command] = {}
        for impl in kernel.host.impls("register_cli_commands"):
            plugin = impl.plugin_name
            try:
                commands = list(impl.function(kernel=kernel) or [])
            except Exception as exc:
                log.exception("plugin %s failed in register_cli_commands", plugin)
                if kernel.host.strict:
                    raise
                state.plugin_command_errors[plugin] = f"{exc.__class__.__name__}: {exc}"
                continue
            if plugin in self.commands:
                log.warning("plugin %s: its commands clash with `crm %s`; not added", plugin, plugin)
                continue
            if len(commands) == 1 and isinstance(commands[0], click.Group) and commands[0].name == plugin:
                out[plugin] = commands[0]
                continue
            manifest = kernel.host.manifests().get(plugin)
            group = click.Group(name=plugin, help=manifest.summary if manifest else None)
            for cmd in commands:
                group.add_command(cmd)
            out[plugin] = group
        state.plugin_commands = out
        return out

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        cmd = super().get_command(ctx, cmd_name)
        if cmd is not None:
            return cmd
        try:
            found = self.plugin_commands(ctx).get(cmd_name)
        except CRMError as exc:  # not set up yet: a typo must not read like a setup problem
            raise click.UsageError(f"No such command {cmd_name!r} (plugin commands are not "
                                   f"available: {exc})", ctx) from None
        if found is not None:
            self._state(ctx).kernel()  # it is about to run: start the plugins
            return found
        state = self._state(ctx)
        if cmd_name in state.plugin_command_errors:
            raise CLIError(f"plugin {cmd_name} failed to register its commands: "
                           f"{state.plugin_command_errors[cmd_name]}")
        rec = state.kernel().host.records.get(cmd_name)
        if rec is not None and not rec.ok:
            raise CLIError(f"plugin {cmd_name} failed to load: {rec.error}")
        if rec is not None and not state.kernel().is_active(cmd_name):
            raise CLIError(f"plugin {cmd_name} is not enabled: run `crm plugins enable {cmd_name}`")
        return None

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = super().list_commands(ctx)
        with contextlib.suppress(Exception):  # help must work before `crm init` too
            names += sorted(self.plugin_commands(ctx))
        return names


@click.group(cls=CRMGroup, context_settings={"help_option_names": ["-h", "--help"],
                                              "max_content_width": 110})
@click.option("--config", "config_file", metavar="FILE",
              help="TOML settings file (default: $CRM_CONFIG or ./crm.toml); CRM_* variables win.")
@click.version_option(__version__, prog_name="crm")
@click.pass_context
def cli(ctx: click.Context, config_file: str | None) -> None:
    """Mosaic CRM administration.

    \b
    First steps:
      crm init --preset startup     create secrets, tables, roles and the admin user
      crm demo                      load realistic demo data (500 customers)
      crm serve                     run the web server
    """
    state = ctx.ensure_object(CliState)
    state.config_file = config_file
    ctx.call_on_close(state.close)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


def _register() -> None:
    from crm_core.cli import customers, demo, plugins, setup, tokens, users

    for cmd in (setup.init, setup.migrate_cmd, setup.serve, setup.worker, demo.demo,
                plugins.plugins, users.users, users.teams, customers.customers, tokens.tokens):
        cli.add_command(cmd)


_register()


def main(argv: list[str] | None = None) -> Any:
    """Console script entry point."""
    return cli.main(args=argv, prog_name="crm")
