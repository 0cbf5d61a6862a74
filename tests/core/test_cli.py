"""The ``crm`` command line, run in-process with click's CliRunner against the test database."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import httpx
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, text

from crm_core.cli import CliState, cli
from crm_core.declarations import Action
from crm_core.hookspecs import hookimpl
from crm_core.kernel import Kernel
from crm_core.plugin_system.manifest import Manifest
from crm_core.settings import Settings, load_settings

Run = Callable[..., Result]


class AlphaHooks:
    @hookimpl
    def register_permissions(self, kernel: Kernel) -> list[Action]:
        return [Action("alpha.use", "使用阿尔法", "Use alpha", defaults={"sales_rep": True})]

    @hookimpl
    def register_cli_commands(self, kernel: Kernel) -> list[click.Command]:
        @click.command()
        @click.argument("who", default="world")
        def hello(who: str) -> None:
            """Say hello."""
            state = click.get_current_context().find_object(CliState)
            assert state is not None and state.kernel() is kernel
            click.echo(f"hello {who} from alpha")

        return [hello]


ALPHA = Manifest(name="alpha", version="1.2.0", summary="Alpha module", stages=("startup",),
                 hooks=AlphaHooks())
BETA = Manifest(name="beta", version="0.3.0", summary="Beta needs alpha", depends=("alpha",),
                stages=("growth",), hooks=object())
BROKEN = Manifest(name="broken", version="1.0", summary="Cannot be imported",
                  hooks="crm_tests_no_such_module.hooks", stages=("growth",))


@pytest.fixture
def env(tmp_path: Path, crm_database_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for var in ("CRM_CONFIG", "CRM_ADMIN_PASSWORD", "CRM_WEB_WORKERS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    values = {
        "CRM_DATABASE_URL": crm_database_url,
        "CRM_SECRETS_FILE": str(tmp_path / "secrets.json"),
        "CRM_AUTOLOAD_PLUGINS": "false",
        "CRM_PLUGIN_REFRESH_SECONDS": "0",
    }
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    return values


@pytest.fixture
def run(env: dict[str, str]) -> Run:
    def invoke(*args: str, plugins: tuple[Manifest, ...] = (), input: str | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), obj=CliState(plugins=plugins), input=input)

    return invoke


def ok(result: Result) -> str:
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def user_error(result: Result) -> str:
    """A user's mistake: exit status 1, exactly one line on stderr, no traceback."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def scalar(url: str, sql: str, **params: Any) -> Any:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()
    finally:
        engine.dispose()


# -- init / migrate -----------------------------------------------------------------------
def test_init_creates_secrets_admin_and_roles_and_is_idempotent(run: Run, env: dict[str, str]) -> None:
    out = ok(run("init"))
    secrets_file = Path(env["CRM_SECRETS_FILE"])
    assert secrets_file.exists()
    assert "created" in out
    password = re.search(r"^\s+password\s+(\S+)$", out, re.M)
    assert password, out
    secret_json = secrets_file.read_text()
    for value in re.findall(r'"([A-Za-z0-9_\-+/=]{20,})"', secret_json):
        assert value not in out  # never print the secrets
    assert scalar(env["CRM_DATABASE_URL"], "SELECT count(*) FROM crm_role WHERE builtin") == 6

    again = ok(run("init"))
    assert "already exists" in again and "(kept)" in again
    assert password.group(1) not in again
    assert scalar(env["CRM_DATABASE_URL"], "SELECT count(*) FROM crm_user") == 1
    assert "up to date" in ok(run("migrate"))


def test_init_takes_the_admin_password(run: Run, env: dict[str, str]) -> None:
    out = ok(run("init", "--admin-password", "s3cret-pass"))
    assert "s3cret-pass" not in out
    from crm_core.services.users import authenticate

    kernel = Kernel(load_settings())
    try:
        assert authenticate(kernel.ctx(), "admin", "s3cret-pass") is not None
    finally:
        kernel.shutdown()


def test_init_preset_enables_the_plugins_of_that_stage(run: Run) -> None:
    plugins = (ALPHA, BETA, BROKEN)
    out = ok(run("init", "--preset", "growth", plugins=plugins))
    assert "Preset growth: enabled alpha, beta" in out
    assert "also enabled" in out and "alpha" in out
    assert "broken" in ok(run("plugins", "list", plugins=plugins))
    out = ok(run("init", "--preset", "mature", plugins=plugins))
    assert "no installed plugin belongs to the mature stage" in out
    assert "already enabled: alpha" in ok(run("init", "--preset", "startup", plugins=plugins))


def test_init_rejects_an_unknown_preset(run: Run) -> None:
    result = run("init", "--preset", "huge")
    assert result.exit_code == 2 and "Traceback" not in result.output


# -- plugins ------------------------------------------------------------------------------
def test_plugins_list_info_enable_disable(run: Run) -> None:
    plugins = (ALPHA, BETA, BROKEN)
    ok(run("init", plugins=plugins))
    out = ok(run("plugins", "list", plugins=plugins))
    assert re.search(r"alpha\s+│\s+1\.2\.0\s+│\s+no\s+│\s+loaded\s+│\s+startup", out), out
    assert "broken failed:" in out and "crm_tests_no_such_module" in out

    out = ok(run("plugins", "enable", "beta", plugins=plugins))
    assert "Enabled: beta" in out
    assert "Also enabled as dependencies: alpha" in out
    assert "Already enabled: beta" in ok(run("plugins", "enable", "beta", plugins=plugins))

    info = ok(run("plugins", "info", "alpha", plugins=plugins))
    for expected in ("register_cli_commands", "register_permissions", "alpha.use",
                     "sales_rep=yes", "dependents", "beta", "1.2.0"):
        assert expected in info, expected

    line = user_error(run("plugins", "disable", "alpha", plugins=plugins))
    assert "beta" in line and "--cascade" in line
    out = ok(run("plugins", "disable", "alpha", "--cascade", plugins=plugins))
    assert "Disabled: alpha" in out and "Also disabled (they depend on it): beta" in out
    assert "no" in ok(run("plugins", "list", plugins=plugins))

    assert "failed to load" in user_error(run("plugins", "enable", "broken", plugins=plugins))
    assert "no plugin named 'nope'" in user_error(run("plugins", "enable", "nope", plugins=plugins))


def test_enabled_plugins_add_their_commands(run: Run) -> None:
    ok(run("init", plugins=(ALPHA,)))
    line = user_error(run("alpha", "hello", plugins=(ALPHA,)))
    assert "plugin alpha is not enabled" in line
    ok(run("plugins", "enable", "alpha", plugins=(ALPHA,)))
    assert "hello crm from alpha" in ok(run("alpha", "hello", "crm", plugins=(ALPHA,)))
    assert "alpha" in ok(run("--help", plugins=(ALPHA,)))
    result = run("gamma", plugins=(ALPHA,))
    assert result.exit_code == 2 and "No such command" in result.output


# -- users and teams ----------------------------------------------------------------------
def test_users_and_teams(run: Run, env: dict[str, str]) -> None:
    ok(run("init"))
    ok(run("teams", "add", "华东销售二组"))
    ok(run("users", "add", "mgr", "--password", "password-1", "--role", "sales_manager",
           "--name", "经理"))
    ok(run("teams", "add", "Key accounts", "--manager", "mgr"))
    out = ok(run("users", "add", "rep", "--role", "sales_rep", "--team", "华东销售二组",
                 "--locale", "en", input="password-2\npassword-2\n"))
    assert "rep created" in out and "password-2" not in out
    out = ok(run("teams", "members", "Key accounts", "--add", "rep", "--add", "mgr"))
    assert "Members of Key accounts: mgr, rep" in out
    out = ok(run("teams", "members", "Key accounts", "--remove", "mgr"))
    assert "Members of Key accounts: rep" in out
    assert re.search(r"Key accounts\s+│\s+mgr\s+│\s+rep", ok(run("teams", "list")))

    out = ok(run("users", "list"))
    assert re.search(r"rep\s+│\s+rep\s+│\s+sales_rep\s+│\s+Key accounts, 华东销售二组\s+│\s+yes\s+│\s+en",
                     out), out
    ok(run("users", "passwd", "rep", input="password-3\npassword-3\n"))
    ok(run("users", "roles", "rep", "sales_rep", "marketing"))
    assert "marketing, sales_rep" in ok(run("users", "list"))
    ok(run("users", "disable", "rep"))
    out = ok(run("users", "access", "rep"))
    assert "user is disabled" in out
    ok(run("users", "enable", "rep"))
    out = ok(run("users", "access", "rep", "--granted"))
    assert "customers.export" in out and "audit.read" not in out

    from crm_core.services.users import authenticate

    kernel = Kernel(load_settings())
    try:
        assert authenticate(kernel.ctx(), "rep", "password-3") is not None
    finally:
        kernel.shutdown()


@pytest.mark.parametrize("args, words", [
    (("users", "access", "ghost"), ["no user 'ghost'"]),
    (("users", "add", "x1", "--password", "short", "--role", "sales_rep"), ["at least 8"]),
    (("users", "add", "x1", "--password", "long-enough", "--role", "boss"), ["unknown role", "boss"]),
    (("users", "roles", "admin", "boss"), ["unknown role", "boss"]),
    (("teams", "members", "nowhere", "--add", "admin"), ["no team 'nowhere'"]),
    (("customers", "list", "--as", "ghost"), ["no user 'ghost'"]),
    (("customers", "list", "--cursor", "not-a-cursor"), ["invalid cursor"]),
    (("plugins", "info", "ghost"), ["no plugin named 'ghost'"]),
    (("--config", "missing.toml", "users", "list"), ["config file missing.toml not found"]),
])
def test_user_mistakes_give_one_line(run: Run, args: tuple[str, ...], words: list[str]) -> None:
    ok(run("init"))
    line = user_error(run(*args))
    for w in words:
        assert w in line


def test_commands_before_init_say_to_run_init(run: Run) -> None:
    assert "run `crm init` first" in user_error(run("users", "list"))


def test_usage_errors_exit_with_2(run: Run) -> None:
    result = run("users", "add")
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_config_file(run: Run, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "site.toml"
    config.write_text(f'[crm]\ndatabase_url = "{env["CRM_DATABASE_URL"]}"\n'
                      f'secrets_file = "{tmp_path / "other-secrets.json"}"\n'
                      'autoload_plugins = false\n', encoding="utf-8")
    monkeypatch.delenv("CRM_DATABASE_URL")
    monkeypatch.delenv("CRM_SECRETS_FILE")
    ok(run("--config", str(config), "init"))
    assert (tmp_path / "other-secrets.json").exists()
    assert "admin" in ok(run("--config", str(config), "users", "list"))


# -- customers ----------------------------------------------------------------------------
@pytest.fixture
def demo_db(run: Run) -> Run:
    ok(run("init"))
    ok(run("demo", "--customers", "40", "--seed", "11"))
    return run


def test_users_access_explains_a_reps_scope(demo_db: Run) -> None:
    out = ok(demo_db("users", "access", "li.na"))
    assert "roles: sales_rep; teams: 华东销售一组" in out
    row = next(ln for ln in out.splitlines() if "customers.read " in ln)
    assert re.search(r"│\s+yes\s+│\s+own\s+│\s+role sales_rep grants customers.read with scope own", row), row
    row = next(ln for ln in out.splitlines() if "customers.delete " in ln)
    assert "no role of this user grants it" in row


def _codes(out: str) -> list[str]:
    return re.findall(r"C\d{11,}", out)


def _rows(out: str) -> list[dict[str, str]]:
    """The customer table's rows as dicts (columns code, name, type, status, region, owner, phone)."""
    names = ("code", "name", "type", "status", "region", "owner", "phone")
    return [dict(zip(names, (c.strip() for c in ln.split("│")[1:-1]), strict=True))
            for ln in out.splitlines() if _codes(ln)]


def test_customers_list_is_scoped_and_masked(demo_db: Run, env: dict[str, str]) -> None:
    url = env["CRM_DATABASE_URL"]
    rep_id = scalar(url, "SELECT id FROM crm_user WHERE login = 'li.na'")
    own = scalar(url, "SELECT count(*) FROM crm_customer WHERE owner_id = :i", i=rep_id)
    assert own > 0

    out = ok(demo_db("customers", "list", "--as", "li.na", "--limit", "200"))
    rows = _rows(out)
    assert len(rows) == own
    assert {r["owner"] for r in rows} == {"li.na"}
    assert all(re.fullmatch(r"1[3-9]\d{9}", r["phone"]) for r in rows if r["phone"])  # full phones
    assert f"{own} shown of {own} visible as li.na" in out

    viewer = _rows(ok(demo_db("customers", "list", "--as", "qian.hui", "--limit", "200")))
    assert len(viewer) == 40
    phones = [r["phone"] for r in viewer if r["phone"]]
    assert phones and all(re.fullmatch(r"1[3-9]\d\*{4}\d{4}", p) for p in phones)

    manager = _rows(ok(demo_db("customers", "list", "--as", "zhang.wei", "--limit", "200")))
    assert manager and {r["owner"] for r in manager} <= {"zhang.wei", "li.na", "wang.fang"}

    page = ok(demo_db("customers", "list", "--limit", "15"))
    cursor = re.search(r"--cursor (\S+)", page)
    assert cursor and len(_codes(page)) == 15
    rest = ok(demo_db("customers", "list", "--limit", "200", "--cursor", cursor.group(1)))
    assert len(_codes(rest)) == 25 and not set(_codes(rest)) & set(_codes(page))
    won = _rows(ok(demo_db("customers", "list", "--status", "won", "--limit", "200")))
    assert won and {r["status"] for r in won} == {"won"}


# -- serve / worker / web app -------------------------------------------------------------
def test_serve_runs_uvicorn(run: Run, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    ok(run("init"))
    ok(run("serve", "--port", "8123"))
    app, kw = calls[-1]
    assert kw["port"] == 8123 and kw["host"] == "127.0.0.1" and not isinstance(app, str)
    result = run("serve", "--workers", "3")
    if env["CRM_DATABASE_URL"].startswith("sqlite"):
        assert "needs PostgreSQL" in user_error(result)
    else:
        ok(result)
        app, kw = calls[-1]
        assert app == "crm_core.web.app:create_app_from_env" and kw["factory"] and kw["workers"] == 3
        monkeypatch.delenv("CRM_WEB_WORKERS")


def test_worker_runs_the_scheduler(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    import crm_core.scheduler

    seen: list[Kernel] = []

    def fake_run_worker(kernel: Kernel) -> int:
        seen.append(kernel)
        return 0

    monkeypatch.setattr(crm_core.scheduler, "run_worker", fake_run_worker)
    ok(run("init"))
    result = run("worker")
    ok(result)
    assert seen and "job(s)" in result.stderr


@pytest.fixture
def app_settings(env: dict[str, str], run: Run) -> Iterator[Settings]:
    ok(run("init"))
    yield load_settings()


async def _serve_one(app: Any, path: str) -> tuple[httpx.Response, bool]:
    """Start the app's lifespan, GET ``path``, shut down; (response, kernel started meanwhile)."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}},
                                   inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    assert (await outbox.get())["type"] == "lifespan.startup.complete"
    started = app.state.kernel.started
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://crm") as c:
        response = await c.get(path)
    await inbox.put({"type": "lifespan.shutdown"})
    assert (await outbox.get())["type"] == "lifespan.shutdown.complete"
    await task
    return response, started


@pytest.mark.parametrize("scheduler", [True, False])
def test_health_endpoint(app_settings: Settings, scheduler: bool) -> None:
    from crm_core.web.app import create_app

    app = create_app(app_settings.with_(scheduler_enabled=scheduler))
    response, started = asyncio.run(_serve_one(app, "/-/health"))
    assert started and not app.state.kernel.started
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["version"]
    assert body["database"] == ("sqlite" if app_settings.is_sqlite else "postgresql")
