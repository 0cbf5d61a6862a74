"""Web test support for the kernel's and plugins' tests: a served app driven in-process (its
lifespan by hand, requests through ``httpx.AsyncClient(transport=ASGITransport(app))`` on one
event loop, no ``starlette.testclient``), clients with their own cookie jar that sign in and
submit forms with their CSRF token, and users with a known password."""

from __future__ import annotations

import asyncio
import re
from functools import cache
from typing import Any

import httpx

from crm_core.kernel import Kernel
from crm_core.models import User
from crm_core.passwords import hash_password
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
