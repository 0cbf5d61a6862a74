"""Shared by the API tests: a private database and a served app for module-scoped worlds,
bearer clients, and following keyset pages."""

from __future__ import annotations

import asyncio
import sys
from functools import cache
from pathlib import Path
from typing import Any

import httpx

from crm_core.kernel import Kernel
from crm_core.models import User
from crm_core.passwords import hash_password
from crm_core.plugin_system.manifest import Manifest
from crm_core.services import auth as auth_svc
from crm_core.services.roles import set_user_roles
from crm_core.services.users import set_membership
from crm_core.web import create_app

HERE = Path(__file__).resolve().parent
PASSWORD = "correct-horse-battery"
REAUTH = {"X-Reauth-Password": PASSWORD}


def apiplug() -> Manifest:
    """The test plugin with documented API routes (``tests/web/api/apiplug``)."""
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    import apiplug as module

    return Manifest(name="apiplug", version="0.1.0", summary="API test plugin", hooks=module.Hooks())


@cache
def password_hash() -> str:
    return hash_password(PASSWORD)


def add_user(kernel: Kernel, login: str, *roles: str, team: str | None = None) -> int:
    with kernel.new_session(write=True) as s, s.begin():
        user = User(login=login, display_name=login, password_hash=password_hash())
        s.add(user)
        s.flush()
        user_id = user.id
    if roles:
        set_user_roles(kernel.ctx(), login, list(roles))
    if team:
        set_membership(kernel.ctx(), team, login, True)
    assert user_id is not None
    return user_id


def bearer(kernel: Kernel, login: str) -> dict[str, str]:
    _row, raw = auth_svc.create_token(kernel.ctx(), login)
    return {"Authorization": f"Bearer {raw}"}


class ApiSite:
    """``create_app(kernel=…)`` with its lifespan running, driven through httpx in-process."""

    def __init__(self, kernel: Kernel) -> None:
        self.app = create_app(kernel=kernel)
        self.runner = asyncio.Runner()
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app),
                                      base_url="http://crm.test", follow_redirects=False)
        self._inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.runner.run(self._lifespan("startup"))

    async def _lifespan(self, phase: str) -> None:
        if phase == "startup":
            scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
            self._task = asyncio.get_running_loop().create_task(
                self.app(scope, self._inbox.get, self._outbox.put))
        await self._inbox.put({"type": f"lifespan.{phase}"})
        assert (await self._outbox.get())["type"] == f"lifespan.{phase}.complete"
        if phase == "shutdown":
            await self.http.aclose()
            await self._task

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.runner.run(self.http.request(method, path, **kwargs))

    def close(self) -> None:
        try:
            self.runner.run(self._lifespan("shutdown"))
        finally:
            self.runner.close()


def all_items(request: Any, path: str, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    """Every item of a list, following ``next_cursor``; fails on an item seen twice."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = request("GET", path, params=query, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    ids = [i["id"] for i in items]
    assert len(ids) == len(set(ids)), f"{path}: an item was listed twice"
    return items
