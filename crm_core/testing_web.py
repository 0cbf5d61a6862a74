"""Web test support for the kernel's and plugins' tests: a served app driven in-process (its
lifespan by hand, requests through ``httpx.AsyncClient(transport=ASGITransport(app))`` on one
event loop, no ``starlette.testclient``), clients with their own cookie jar that sign in and
submit forms with their CSRF token, and users with a known password."""

from __future__ import annotations

import asyncio
import itertools
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import httpx

from crm_core.context import Ctx
from crm_core.kernel import Kernel
from crm_core.models import User
from crm_core.passwords import hash_password
from crm_core.plugin_system.manifest import Manifest
from crm_core.services.roles import set_user_roles

PASSWORD = "correct-horse-battery"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@cache
def _password_hash() -> str:
    return hash_password(PASSWORD)  # argon2 is slow on purpose: once per session


class Client:
    """One browser (or API client): its own cookie jar."""

    def __init__(self, site: Site, base_url: str = "http://crm.test", **kwargs: Any) -> None:
        self.site = site
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=site.app), base_url=base_url,
                                      follow_redirects=False, **kwargs)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.site.run(self.http.request(method, path, **kwargs))

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def csrf(self, page: str = "/login") -> str:
        response = self.get(page)
        found = _CSRF.search(response.text)
        assert found, f"no CSRF field on {page} ({response.status_code})"
        return found.group(1)

    def submit(self, path: str, data: dict[str, str], page: str = "/", **kwargs: Any) -> httpx.Response:
        """POST a form the way a browser does: with the token of the page it came from (and,
        like a browser, that page as the Referer)."""
        headers = {"Referer": str(self.http.base_url.join(page)), **kwargs.pop("headers", {})}
        return self.post(path, data={**data, "csrf_token": self.csrf(page)}, headers=headers, **kwargs)

    def login(self, login: str, password: str = PASSWORD, next: str = "/") -> httpx.Response:
        signed_in = self.get("/login").status_code == 303
        return self.post("/login", data={"login": login, "password": password, "next": next,
                                         "csrf_token": self.csrf("/" if signed_in else "/login")})

    @property
    def session_cookie(self) -> str | None:
        return self.http.cookies.get("crm_session")


class Site:
    """The app with its lifespan running on a private event loop."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.runner = asyncio.Runner()
        self.clients: list[Client] = []
        self._inbox: asyncio.Queue[dict[str, Any]] | None = None
        self._outbox: asyncio.Queue[dict[str, Any]] | None = None
        self._task: asyncio.Task[Any] | None = None
        self.run(self._startup())

    def run(self, coro: Any) -> Any:
        return self.runner.run(coro)

    async def _startup(self) -> None:
        self._inbox, self._outbox = asyncio.Queue(), asyncio.Queue()
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self._task = asyncio.create_task(self.app(scope, self._inbox.get, self._outbox.put))
        await self._inbox.put({"type": "lifespan.startup"})
        message = await self._outbox.get()
        assert message["type"] == "lifespan.startup.complete", message

    async def _shutdown(self) -> None:
        assert self._inbox and self._outbox and self._task
        for c in self.clients:
            await c.http.aclose()
        await self._inbox.put({"type": "lifespan.shutdown"})
        assert (await self._outbox.get())["type"] == "lifespan.shutdown.complete"
        await self._task

    def client(self, **kwargs: Any) -> Client:
        c = Client(self, **kwargs)
        self.clients.append(c)
        return c

    def close(self) -> None:
        try:
            self.run(self._shutdown())
        finally:
            self.runner.close()


def add_user(kernel: Kernel, login: str, *roles: str, locale: str = "zh_CN", name: str = "") -> int:
    with kernel.new_session(write=True) as s, s.begin():
        user = User(login=login, display_name=name or login, password_hash=_password_hash(),
                    locale=locale)
        s.add(user)
        s.flush()
        user_id = user.id
    if roles:
        set_user_roles(kernel.ctx(), login, list(roles))
    assert user_id is not None
    return user_id


# --- the integrator kit: an app per test, clients per role, factories ------------------------
class Factories:
    """Records made through the services (validation, audit entry and domain event included),
    for plugin authors' tests. ``as_user`` is the login acting (default: the system)."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self._n = itertools.count(1)

    def ctx(self, as_user: str | None = None) -> Ctx:
        if as_user is None:
            return self.kernel.ctx()
        from crm_core.services.users import actor_for

        return self.kernel.ctx(actor_for(self.kernel.ctx(), as_user), interface="test")

    def user(self, *roles: str, login: str | None = None, locale: str = "zh_CN",
             display_name: str = "", password: str = PASSWORD, team: str | None = None) -> User:
        """A user with the given built-in (or custom) roles; the password is ``PASSWORD``."""
        from crm_core.services.users import create_user

        # unique across every Factories of the kernel (crm_factory, crm_app.login_as…)
        login = login or f"{(roles[0] if roles else 'user').replace('_', '-')}-{uuid.uuid4().hex[:8]}"
        return create_user(self.kernel.ctx(), {"login": login, "password": password, "locale": locale,
                                               "display_name": display_name or login},
                           roles=list(roles), team=team)

    def customer(self, as_user: str | None = None, **data: Any) -> Any:
        """A customer (``CustomerRead``) owned by ``as_user``; any ``CustomerCreate`` field."""
        from crm_core.services.customers import create_customer

        data.setdefault("name", f"测试客户 {next(self._n)} 有限公司")
        return create_customer(self.ctx(as_user), data)

    def contact(self, customer_id: int | None = None, as_user: str | None = None,
                **data: Any) -> Any:
        """A contact (``ContactRead``) of ``customer_id`` (default: a new customer)."""
        from crm_core.services.contacts import create_contact

        if customer_id is None:
            customer_id = self.customer(as_user=as_user).id
        data.setdefault("name", f"联系人 {next(self._n)}")
        return create_contact(self.ctx(as_user), {"customer_id": customer_id, **data})


class CrmSite:
    """An app under test: its kernel, the served :class:`Site`, anonymous clients and clients
    signed in as a fresh user of a role (:meth:`login_as`)."""

    def __init__(self, kernel: Kernel, site: Site) -> None:
        self.kernel = kernel
        self.site = site
        self.factories = Factories(kernel)

    def client(self, **kwargs: Any) -> Client:
        return self.site.client(**kwargs)

    def login_as(self, *roles: str, login: str | None = None, locale: str = "zh_CN") -> Client:
        """A client signed in as a new user holding ``roles`` (built-in: admin, sales_manager,
        sales_rep, service_agent, marketing, viewer). ``client.user`` is that user."""
        user = self.factories.user(*roles, login=login, locale=locale)
        c = self.site.client()
        answer = c.login(user.login)
        assert answer.status_code == 303, f"login as {user.login} failed: {answer.status_code}"
        c.user = user  # type: ignore[attr-defined]
        return c

    def api_client(self, *roles: str, login: str | None = None) -> Client:
        """A client sending ``Authorization: Bearer …`` for a new user holding ``roles``."""
        from crm_core.services.auth import create_token

        user = self.factories.user(*roles, login=login)
        _row, raw = create_token(self.kernel.ctx(), user.login, "test")
        c = self.site.client(headers={"Authorization": f"Bearer {raw}"})
        c.user = user  # type: ignore[attr-defined]
        return c

    def reinstall(self) -> None:
        """Re-mount the routes after plugins were registered or removed on the kernel."""
        from crm_core.web.app import install

        install(self.site.app, self.kernel)


def _as_manifest(plugin: Any, name: str | None) -> Manifest:
    if isinstance(plugin, Manifest):
        return plugin
    name = name or f"tmp_{type(plugin).__name__.lower()}_{uuid.uuid4().hex[:6]}"
    return Manifest(name=name, version="0.0.0", summary="registered by a test", hooks=plugin)


@contextmanager
def register_temporarily(kernel: Kernel, plugin: Any, *, name: str | None = None,
                         enable: bool = True, site: CrmSite | None = None) -> Iterator[Manifest]:
    """Register a plugin (a :class:`Manifest`, or any object with ``@hookimpl`` methods) on a
    running kernel for the ``with`` block: its hooks fire, its declarations (entities,
    permissions, routes, jobs, menu) are collected, its tables created, and it is enabled
    (``enable=False``: registered but off). Afterwards every trace of it is removed again.
    Pass ``site`` to mount its routes on a served app too."""
    from crm_core.migrate import migrate
    from crm_core.plugin_system.host import PluginRecord
    from crm_core.services.roles import seed_builtin_grants

    manifest = _as_manifest(plugin, name)
    host = kernel.host
    if manifest.name in host.records:
        raise ValueError(f"a plugin named {manifest.name!r} is already registered")
    missing = [d for d in manifest.depends if d not in host.order]
    if missing:
        raise ValueError(f"{manifest.name} depends on {', '.join(missing)}, not loaded on this kernel")
    rec = PluginRecord(manifest.name, manifest, "code")
    host.records[manifest.name] = rec
    try:
        rec.obj = host_import_hooks(manifest)
        if manifest.hookspecs is not None:
            host.pm.add_hookspecs(manifest.hookspecs)
        host.pm.register(rec.obj, name=manifest.name)
        problem = host._check_impls(manifest.name, rec.obj)
        if problem:
            raise ValueError(problem)
        host.order.append(manifest.name)
        host._subset_cache.clear()
        kernel._collect_one(manifest.name)
        if enable:
            migrate(kernel, [manifest.name])
            host.set_enabled([manifest.name], True)
            seed_builtin_grants(kernel.ctx())
        if site is not None:
            site.reinstall()
        yield manifest
    finally:
        was_on = manifest.name in host.enabled(refresh=True)
        if was_on:
            host.set_enabled([manifest.name], False)
        if rec.obj is not None and host.pm.is_registered(rec.obj):
            host.pm.unregister(rec.obj)
        kernel._forget(manifest.name)
        if manifest.name in host.order:
            host.order.remove(manifest.name)
        host.records.pop(manifest.name, None)
        host._subset_cache.clear()
        host.enabled(refresh=True)
        if site is not None:
            site.reinstall()


def host_import_hooks(manifest: Manifest) -> Any:
    from crm_core.plugin_system.host import _import_hooks

    return _import_hooks(manifest)


def _installed_manifests() -> dict[str, Manifest]:
    from importlib.metadata import entry_points

    from crm_core.plugin_system.host import ENTRY_POINT_GROUP

    out: dict[str, Manifest] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            m = ep.load()
        except Exception:  # a broken distribution is not ours to judge here
            continue
        if isinstance(m, Manifest):
            out[m.name] = m
    return out


def check_declared_dependencies(
    build: Callable[[list[Manifest]], Kernel], manifest: Manifest, available: Any = (),
) -> dict[str, Any]:
    """Enable ``manifest`` on a fresh kernel (``build(plugins)``) holding only it and what its
    ``depends`` need (from ``available``, else the installed distributions), then assert that it
    loads, that enabling switches on exactly those plugins and creates its tables, that its GET
    routes without path parameters answer (< 400) for a user granted all its permissions, and
    that once disabled they answer 404. Returns what was checked (``routes``, ``tables``…)."""
    from sqlalchemy import inspect as sa_inspect

    from crm_core.migrate import enable_plugins
    from crm_core.plugin_system.resolve import dependency_closure
    from crm_core.web import create_app

    pool = {m.name: m for m in available}
    pool[manifest.name] = manifest
    installed: dict[str, Manifest] | None = None
    todo, needed = [manifest.name], {manifest.name: manifest}
    while todo:
        for dep in needed[todo.pop()].depends:
            if dep in needed:
                continue
            if dep not in pool:
                installed = installed if installed is not None else _installed_manifests()
                if dep not in installed:
                    raise AssertionError(f"{manifest.name} depends on {dep!r}, which is neither "
                                         "given in available= nor installed")
                pool[dep] = installed[dep]
            needed[dep] = pool[dep]
            todo.append(dep)
    kernel = build(list(needed.values()))
    rec = kernel.host.records[manifest.name]
    assert rec.ok and manifest.name in kernel.host.order, f"{manifest.name} did not load: {rec.error}"
    kernel.host.set_enabled(sorted(kernel.host.enabled(refresh=True)), False)  # start from all off
    done = enable_plugins(kernel, [manifest.name])
    closure = dependency_closure(kernel.host.manifests(), [manifest.name])
    assert set(done) == closure, f"enabling {manifest.name} switched on {done}, expected {closure}"
    from crm_core.services.roles import seed_builtin_grants

    seed_builtin_grants(kernel.ctx())
    tables = sorted(t.name for t in kernel.plugin_tables(manifest.name))
    with kernel.engine.connect() as conn:
        insp = sa_inspect(conn)
        missing = [t for t in tables if not insp.has_table(t)]
    assert not missing, f"{manifest.name}: tables {missing} were not created on enable"
    urls = [(f"/api/v1/{manifest.name}" if r.api else f"/{manifest.name}") + r.path
            for r, p in kernel.routes if p == manifest.name and "GET" in r.methods and "{" not in r.path]
    site = Site(create_app(kernel=kernel))
    try:
        login = _all_powerful_user(kernel, manifest.name)
        client = site.client()
        assert client.login(login).status_code == 303
        for url in urls:
            status = client.get(url).status_code
            assert status < 400, f"{manifest.name}: GET {url} answered {status} while enabled"
        kernel.host.set_enabled([manifest.name], False)
        for url in urls:
            status = client.get(url).status_code
            assert status == 404, f"{manifest.name}: GET {url} answered {status} once disabled"
    finally:
        site.close()
    return {"enabled": list(done), "tables": tables, "routes": urls}


def _all_powerful_user(kernel: Kernel, plugin: str) -> str:
    """An admin additionally granted every action of ``plugin`` (scope ``all``)."""
    from sqlalchemy import select
    from sqlmodel import col

    from crm_core.models import Role, RoleGrant

    login = f"deps-check-{uuid.uuid4().hex[:6]}"
    add_user(kernel, login, "admin")
    with kernel.new_session(write=True) as s, s.begin():
        role = s.scalar(select(Role).where(col(Role.name) == "admin"))
        assert role is not None and role.id is not None
        have = set(s.scalars(select(col(RoleGrant.action)).where(col(RoleGrant.role_id) == role.id)))
        for action, (decl, owner) in kernel.actions.items():
            if owner == plugin and action not in have:
                s.add(RoleGrant(role_id=role.id, action=action, scope="all" if decl.entity else None))
    return login


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """The app of a test kernel served by uvicorn on a loopback port, in a thread — for browser
    tests and HTTP clients that need a real server. ``start()``/``stop()`` or ``with``."""

    def __init__(self, kernel: Kernel) -> None:
        import uvicorn

        from crm_core.web import create_app

        self.kernel = kernel
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(kernel=kernel), host="127.0.0.1", port=self.port,
                                log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)

    def __enter__(self) -> LiveServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
