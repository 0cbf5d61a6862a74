"""``crm init``, ``crm migrate``, ``crm serve`` and ``crm worker``."""

from __future__ import annotations

import logging
import os
import secrets
import sys
from pathlib import Path

import click
from sqlalchemy.engine import make_url

from crm_core.cli.output import print_fields, say, status, warn
from crm_core.cli.state import CLIError, CliState, pass_state
from crm_core.kernel import Kernel
from crm_core.plugin_system.manifest import STAGES


def _db_label(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _migrate(kernel: Kernel) -> list[str]:
    from crm_core.migrate import migrate

    with status("Migrating the database…"):
        return migrate(kernel)


def _report_migration(lines: list[str]) -> None:
    if not lines:
        say("Database schema: up to date")
        return
    say("Database schema:")
    for line in lines:
        say(f"  {line}")


@click.command()
@click.option("--preset", type=click.Choice(STAGES),
              help="Enable the installed plugins that belong to this growth stage.")
@click.option("--admin-password", envvar="CRM_ADMIN_PASSWORD", metavar="PASSWORD",
              help="Password of the admin user created now (default: generated and shown once).")
@pass_state
def init(state: CliState, preset: str | None, admin_password: str | None) -> None:
    """Create the secrets file, migrate the database, seed the built-in roles and the admin
    user; with --preset, enable the plugins of a growth stage. Safe to run again."""
    from crm_core.services.roles import seed_builtin_grants

    settings = state.settings()
    secrets_path = Path(settings.secrets_file)
    existed = secrets_path.exists()
    settings.load_secrets(create=True)
    if existed:
        say(f"Secrets file: {secrets_path} (kept)")
    else:
        say(f"Secrets file: {secrets_path} created — keep it private and back it up apart from "
            "the database; encrypted fields can't be read without it")
    say(f"Database: {_db_label(settings.database_url)}")
    kernel = state.kernel(start=False)
    _report_migration(_migrate(kernel))
    kernel.startup()
    ctx = state.ctx()
    added = seed_builtin_grants(ctx)
    say(f"Built-in roles: ready ({len(added)} default grant(s) added)")
    _ensure_admin(state, admin_password)
    if preset:
        _apply_preset(state, preset)
    say("Next: `crm demo` loads demo data, `crm serve` starts the web server.")


def _ensure_admin(state: CliState, password: str | None) -> None:
    from crm_core.services.users import create_user, list_users

    ctx = state.ctx()
    users = list_users(ctx)
    admins = [u.login for u, roles, _teams in users if "admin" in roles]
    taken = any(u.login == "admin" for u, _r, _t in users)
    if admins or taken:
        shown = ", ".join(admins) or "admin"
        say(f"Admin user: {shown} already exists (change a password with `crm users passwd LOGIN`)")
        if password:
            warn("--admin-password was ignored because an admin user already exists")
        return
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    create_user(ctx, {"login": "admin", "password": password, "display_name": "系统管理员 Administrator",
                      "locale": state.settings().default_locale}, roles=["admin"])
    if generated:
        print_fields([("login", "admin"), ("password", password)],
                     title="Admin user created — this password is shown only once:")
    else:
        say("Admin user created: admin (with the password you gave)")


def _apply_preset(state: CliState, stage: str) -> None:
    from crm_core.migrate import enable_plugins

    kernel = state.kernel()
    host = kernel.host
    manifests = host.manifests()
    wanted = [n for n in host.order if stage in manifests[n].stages]
    failed = sorted(n for n, r in host.records.items()
                    if not r.ok and r.manifest is not None and stage in r.manifest.stages)
    for name in failed:
        warn(f"plugin {name} belongs to the {stage} stage but failed to load: "
             f"{host.records[name].error}")
    if not wanted:
        say(f"Preset {stage}: no installed plugin belongs to the {stage} stage; the kernel "
            "(customers, contacts, follow-ups) is ready on its own")
        return
    already = [n for n in wanted if n in host.enabled(refresh=True)]
    with status(f"Enabling the {stage} plugins…"):
        done = enable_plugins(kernel, wanted)
    extra = [n for n in done if n not in wanted]
    if done:
        say(f"Preset {stage}: enabled {', '.join(done)}")
    if extra:
        say(f"  (also enabled, needed by them or switched on with them: {', '.join(extra)})")
    if already:
        say(f"Preset {stage}: already enabled: {', '.join(already)}")


@click.command("migrate")
@pass_state
def migrate_cmd(state: CliState) -> None:
    """Bring the kernel's and the enabled plugins' tables up to date."""
    from crm_core.services.roles import seed_builtin_grants

    kernel = state.kernel(start=False)
    say(f"Database: {_db_label(kernel.settings.database_url)}")
    _report_migration(_migrate(kernel))
    added = seed_builtin_grants(state.ctx())
    if added:
        say(f"Built-in roles: {len(added)} default grant(s) added for new permissions")


@click.command()
@click.option("--host", default=None, help="Address to bind (default: settings.host).")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Port (default: settings.port).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Server processes; more than one needs PostgreSQL and a `crm worker`.")
@pass_state
def serve(state: CliState, host: str | None, port: int | None, workers: int) -> None:
    """Run the web server (uvicorn). With one process the scheduler runs inside it."""
    import uvicorn

    settings = state.settings()
    if workers > 1 and settings.is_sqlite:
        raise CLIError(
            f"--workers {workers} needs PostgreSQL: SQLite allows a single server process "
            "(use --workers 1, or set CRM_DATABASE_URL=postgresql+psycopg://…)"
        )
    settings.load_secrets()  # fail now with a clear message, not inside a worker process
    logging.getLogger("crm").setLevel(logging.INFO)
    host = host or settings.host
    port = port or settings.port
    if workers == 1:
        from crm_core.web.app import create_app

        uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
        return
    # Worker processes import the app themselves and read the settings from the environment.
    if state.config_file:
        os.environ["CRM_CONFIG"] = str(Path(state.config_file).resolve())
    os.environ["CRM_WEB_WORKERS"] = str(workers)
    if settings.scheduler_enabled:
        say("The scheduler does not run inside several server processes: start `crm worker` "
            "alongside.", err=True)
    uvicorn.run("crm_core.web.app:create_app_from_env", factory=True, host=host, port=port,
                workers=workers, log_level="info")


@click.command()
@pass_state
def worker(state: CliState) -> None:
    """Run the scheduler (jobs, reminders, event retries) until stopped with Ctrl-C/SIGTERM.

    One worker is active per database; extra workers stand by and take over."""
    from crm_core.scheduler import run_worker

    logging.getLogger("crm").setLevel(logging.INFO)
    kernel = state.kernel(start=False)
    say(f"Worker on {_db_label(kernel.settings.database_url)} with {len(kernel.jobs)} job(s); "
        "Ctrl-C stops it.", err=True)
    code = run_worker(kernel)
    if code:
        sys.exit(code)
