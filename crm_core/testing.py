"""Pytest plugin for Mosaic CRM and its plugin authors (registered through ``pytest11``).

Fixtures:

* ``crm_database_url`` — the database under test: ``CRM_TEST_DATABASE_URL`` (e.g.
  ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``; a private database is created
  per test session) or a SQLite file.
* ``make_kernel(plugins=(), enabled=(), strict=True)`` — a kernel on a fresh, migrated database
  with only the given plugin manifests (no entry-point autoload), ``enabled`` switched on.
* ``kernel`` — ``make_kernel()`` with the kernel alone.
* ``private_database(tmp, prefix)`` — a context manager (not a fixture) giving a migrated
  database of its own for a module-scoped world that must outlive the per-test resets.

For plugin authors (docs/integrators.md, "Testing"):

* ``crm_plugins`` — the manifests under test (default: none; override it in your conftest.py)
  and ``crm_enabled`` — the names switched on (default: all of ``crm_plugins``).
* ``crm_kernel`` — a kernel with those plugins (no entry-point autoload, no scheduler), the
  built-in roles seeded, on a fresh database (SQLite, or PostgreSQL via CRM_TEST_DATABASE_URL).
* ``crm_app`` — that kernel served in-process (:class:`~crm_core.testing_web.CrmSite`), and
  ``make_crm_site(plugins=…, enabled=…)`` for an app with other plugins.
* ``login_as("sales_rep")`` — a client signed in as a fresh user with that role.
* ``crm_factory`` — ``.customer()``, ``.contact()``, ``.user()`` through the services.
* ``register_temporarily(plugin)`` — a context manager adding a plugin to the running app.
* ``assert_runs_with_only_declared_dependencies(manifest)`` — enables a plugin with only its
  ``depends`` on a fresh kernel: it loads, migrates, its routes answer, disabled they are 404.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from crm_core.kernel import Kernel
from crm_core.plugin_system.manifest import Manifest
from crm_core.settings import Secrets, Settings
from crm_core.testing_web import CrmSite, Factories
from crm_core.testing_web import register_temporarily as _register_temporarily

_SECRETS = Secrets.generate()


def _pg_create_database(base_url: str, prefix: str = "crm_test") -> str:
    url = make_url(base_url)
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _pg_drop_database(db_url: str) -> None:
    url = make_url(db_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def private_database(tmp: Path, prefix: str = "crm_private") -> Iterator[str]:
    """A migrated database of its own, for a module-scoped world that must outlive the per-test
    database resets: a SQLite file in ``tmp``, or a new PostgreSQL database (dropped afterwards)
    when ``CRM_TEST_DATABASE_URL`` names a server."""
    base = os.environ.get("CRM_TEST_DATABASE_URL")
    if not (base and base.startswith("postgresql")):
        url = f"sqlite:///{tmp / (prefix + '.db')}"
        build_schema(url)
        yield url
        return
    url = _pg_create_database(base, prefix)
    try:
        build_schema(url)
        yield url
    finally:
        _pg_drop_database(url)


def settings_for(url: str, **extra: Any) -> Settings:
    return Settings(database_url=url, **extra).with_secrets(_SECRETS)


def build_schema(url: str) -> None:
    """Create the kernel schema on an empty database (the same path ``crm migrate`` takes)."""
    from crm_core.migrate import migrate

    k = Kernel(settings_for(url), autoload=False, strict=True)
    try:
        migrate(k)
    finally:
        k.shutdown()


def _delete_order(conn: Any, tables: list[str]) -> list[str]:
    """Tables ordered so rows referencing others are deleted first."""
    insp = inspect(conn)
    deps = {t: {fk["referred_table"] for fk in insp.get_foreign_keys(t)} - {t} for t in tables}
    order: list[str] = []
    while deps:
        leaves = sorted(t for t in deps if not any(t in d for o, d in deps.items() if o != t))
        if not leaves:  # a cycle: fall back to any order, FKs cascade
            leaves = sorted(deps)
        for t in leaves:
            order.append(t)
            del deps[t]
    return order


class _Databases:
    """Hands out a fresh migrated database per test: a copied SQLite file, or a truncated
    PostgreSQL database migrated once per session."""

    def __init__(self, base_url: str | None, tmp: Path) -> None:
        self.base_url = base_url
        self.tmp = tmp
        self.template: Path | None = None
        self.pg_url: str | None = None
        self.pg_versions: list[str] = []

    @property
    def is_pg(self) -> bool:
        return bool(self.base_url and self.base_url.startswith("postgresql"))

    def fresh(self, dest_dir: Path) -> str:
        if self.is_pg:
            assert self.base_url
            if self.pg_url is None:
                self.pg_url = _pg_create_database(self.base_url)
                build_schema(self.pg_url)
                eng = create_engine(self.pg_url)
                with eng.connect() as c:
                    rows = c.execute(text("SELECT version_num FROM alembic_version"))
                    self.pg_versions = list(rows.scalars())
                eng.dispose()
            else:
                self._truncate(self.pg_url)
            return self.pg_url
        if self.template is None:
            self.template = self.tmp / "template.db"
            build_schema(f"sqlite:///{self.template}")
        dest = dest_dir / "crm.db"
        shutil.copyfile(self.template, dest)
        return f"sqlite:///{dest}"

    def _truncate(self, url: str) -> None:
        eng = create_engine(url)
        with eng.begin() as c:
            names = [t for t in inspect(c).get_table_names() if t != "alembic_version"]
            core = [n for n in names if n.startswith("crm_")]
            other = [n for n in names if not n.startswith("crm_")]
            for n in other:  # test plugins' tables: dropped, each test declares its own
                c.execute(text(f'DROP TABLE IF EXISTS "{n}" CASCADE'))
            # DELETE is several times faster than TRUNCATE on small tables; children first
            for n in _delete_order(c, core):
                c.execute(text(f'DELETE FROM "{n}"'))
            for (seq,) in c.execute(text(
                    "SELECT sequence_name FROM information_schema.sequences "
                    "WHERE sequence_schema = current_schema()")):
                c.execute(text(f'ALTER SEQUENCE "{seq}" RESTART WITH 1'))
            # the plugin branches went with their tables: back to the kernel's heads
            c.execute(text("DELETE FROM alembic_version"))
            for v in self.pg_versions:
                c.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": v})
        eng.dispose()

    def close(self) -> None:
        if self.pg_url:
            _pg_drop_database(self.pg_url)


@pytest.fixture(scope="session")
def _crm_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Databases]:
    dbs = _Databases(os.environ.get("CRM_TEST_DATABASE_URL") or None,
                     tmp_path_factory.mktemp("crm-template"))
    yield dbs
    dbs.close()


@pytest.fixture
def crm_database_url(_crm_databases: _Databases, tmp_path: Path) -> str:
    return _crm_databases.fresh(tmp_path)


@pytest.fixture
def make_kernel(crm_database_url: str) -> Iterator[Callable[..., Kernel]]:
    made: list[Kernel] = []

    def factory(
        plugins: list[Manifest] | tuple[Manifest, ...] = (),
        enabled: list[str] | tuple[str, ...] = (),
        strict: bool = True,
        **settings: Any,
    ) -> Kernel:
        from crm_core.migrate import enable_plugins

        settings.setdefault("plugin_refresh_seconds", 0.0)
        k = Kernel(settings_for(crm_database_url, **settings), plugins=plugins,
                   autoload=False, strict=strict)
        made.append(k)
        if enabled:
            enable_plugins(k, list(enabled))
        return k

    yield factory
    for k in made:
        k.shutdown()


@pytest.fixture
def kernel(make_kernel: Callable[..., Kernel]) -> Kernel:
    return make_kernel()


# --- the integrator kit --------------------------------------------------------------------
@pytest.fixture
def crm_plugins() -> list[Manifest]:
    """The plugin manifests under test. Override in your conftest.py::

        @pytest.fixture
        def crm_plugins():
            return [manifest]
    """
    return []


@pytest.fixture
def crm_enabled(crm_plugins: list[Manifest]) -> list[str]:
    """The plugins switched on (with their dependencies): by default every one of ``crm_plugins``."""
    return [m.name for m in crm_plugins]


def _app_kernel(make_kernel: Callable[..., Kernel], tmp_path: Path, plugins: Any, enabled: Any,
                **settings: Any) -> Kernel:
    from crm_core.services.roles import seed_builtin_grants

    settings.setdefault("scheduler_enabled", False)
    settings.setdefault("instance_dir", str(tmp_path / f"instance-{uuid.uuid4().hex[:6]}"))
    k = make_kernel(plugins=list(plugins), enabled=list(enabled), **settings)
    seed_builtin_grants(k.ctx())
    return k


@pytest.fixture
def make_crm_site(make_kernel: Callable[..., Kernel], tmp_path: Path) -> Iterator[Callable[..., CrmSite]]:
    """``make_crm_site(plugins=[…], enabled=None, **settings)`` → a served app on a kernel with
    exactly these plugins (``enabled`` defaults to all of them)."""
    from crm_core.testing_web import Site
    from crm_core.web import create_app

    made: list[CrmSite] = []

    def make(plugins: Any = (), enabled: Any = None, **settings: Any) -> CrmSite:
        names = [m.name for m in plugins] if enabled is None else list(enabled)
        k = _app_kernel(make_kernel, tmp_path, plugins, names, **settings)
        app = CrmSite(k, Site(create_app(kernel=k)))
        made.append(app)
        return app

    yield make
    for app in made:
        app.site.close()


@pytest.fixture
def crm_kernel(make_kernel: Callable[..., Kernel], tmp_path: Path, crm_plugins: list[Manifest],
               crm_enabled: list[str]) -> Kernel:
    """The kernel of the test: ``crm_plugins`` loaded, ``crm_enabled`` on, built-in roles seeded."""
    return _app_kernel(make_kernel, tmp_path, crm_plugins, crm_enabled)


@pytest.fixture
def crm_app(crm_kernel: Kernel) -> Iterator[CrmSite]:
    """``crm_kernel`` served in-process: ``crm_app.client()``, ``crm_app.login_as(role)``,
    ``crm_app.api_client(role)``, ``crm_app.kernel``."""
    from crm_core.testing_web import Site
    from crm_core.web import create_app

    app = CrmSite(crm_kernel, Site(create_app(kernel=crm_kernel)))
    yield app
    app.site.close()


@pytest.fixture
def login_as(crm_app: CrmSite) -> Callable[..., Any]:
    """``login_as("sales_rep")`` → a client of ``crm_app`` signed in as a fresh sales rep."""
    return crm_app.login_as


@pytest.fixture
def crm_factory(crm_kernel: Kernel) -> Factories:
    """``crm_factory.customer(name=…, as_user=login)``, ``.contact(customer_id, …)``,
    ``.user("sales_rep", login=…)`` — through the services, so audit and events happen."""
    return Factories(crm_kernel)


@pytest.fixture
def register_temporarily(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """``with register_temporarily(plugin):`` — the plugin (a Manifest or an object with
    ``@hookimpl`` methods) is registered and enabled on ``crm_app`` (or ``kernel=``) inside the
    block and gone afterwards."""

    def register(plugin: Any, kernel: Kernel | None = None, **kwargs: Any) -> Any:
        if kernel is None:
            app: CrmSite = request.getfixturevalue("crm_app")
            kwargs.setdefault("site", app)
            kernel = app.kernel
        return _register_temporarily(kernel, plugin, **kwargs)

    return register


@pytest.fixture
def assert_runs_with_only_declared_dependencies(
    make_kernel: Callable[..., Kernel], tmp_path: Path,
) -> Callable[..., dict[str, Any]]:
    """``assert_runs_with_only_declared_dependencies(manifest, available=[…])``: see
    :func:`crm_core.testing_web.check_declared_dependencies`."""
    from crm_core.testing_web import check_declared_dependencies

    def check(manifest: Manifest, available: Any = ()) -> dict[str, Any]:
        return check_declared_dependencies(
            lambda plugins: _app_kernel(make_kernel, tmp_path, plugins, ()), manifest, available)

    return check
