"""A served app per test, driven in-process: its lifespan by hand and requests through
``httpx.AsyncClient(transport=ASGITransport(app))`` on one event loop (no ``starlette.testclient``)."""

from __future__ import annotations

import asyncio
import importlib
import re
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest

from crm_core.kernel import Kernel
from crm_core.models import User
from crm_core.passwords import hash_password
from crm_core.plugin_system.manifest import Manifest
from crm_core.services.roles import seed_builtin_grants, set_user_roles
from crm_core.web import create_app

HERE = Path(__file__).resolve().parent
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


@pytest.fixture
def webplug(monkeypatch: pytest.MonkeyPatch) -> Manifest:
    monkeypatch.syspath_prepend(str(HERE))
    module = importlib.import_module("webplug")
    return Manifest(name="webplug", version="1.2.3", summary="web test plugin", hooks=module.Hooks())


@pytest.fixture
def web_kernel(make_kernel: Callable[..., Kernel], webplug: Manifest, tmp_path: Path) -> Kernel:
    """A kernel with the web test plugin enabled, the built-in roles, no scheduler, an empty
    instance folder, and the users ``admin``, ``rep`` (sales_rep), ``viewer`` and ``en_user``."""
    k = make_kernel(plugins=[webplug], enabled=["webplug"], scheduler_enabled=False,
                    instance_dir=str(tmp_path / "instance"))
    seed_builtin_grants(k.ctx())
    add_user(k, "admin", "admin", name="Ada Admin")
    add_user(k, "rep", "sales_rep", name="Rita Rep")
    add_user(k, "viewer", "viewer")
    add_user(k, "en_user", "sales_rep", locale="en", name="Eve English")
    return k


@pytest.fixture
def make_site(web_kernel: Kernel) -> Iterator[Callable[..., Site]]:
    """``make_site(**create_app_kwargs)``: another served app on the test kernel."""
    made: list[Site] = []

    def make(**kwargs: Any) -> Site:
        kwargs.setdefault("kernel", web_kernel)
        s = Site(create_app(**kwargs))
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


@pytest.fixture
def site(make_site: Callable[..., Site]) -> Site:
    return make_site()


@pytest.fixture
def client(site: Site) -> Client:
    return site.client()


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def make_user(web_kernel: Kernel) -> Callable[..., int]:
    """``make_user(login, *roles, locale="zh_CN", name="")`` → user id (password ``PASSWORD``)."""

    def make(login: str, *roles: str, **kwargs: Any) -> int:
        return add_user(web_kernel, login, *roles, **kwargs)

    return make
