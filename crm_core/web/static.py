"""``/static/…``: the core's files, and ``/static/<plugin>/…`` from each plugin's ``static/``
folder — 404 while the plugin is disabled."""

from __future__ import annotations

from pathlib import Path

from starlette._utils import get_route_path
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

CORE_STATIC = Path(__file__).with_name("static")


class StaticDispatcher:
    def __init__(self) -> None:
        self.core = StaticFiles(directory=CORE_STATIC)
        self._plugins: dict[str, StaticFiles] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = scope["app"]
        web = app.state.web
        path = get_route_path(scope)  # "/<plugin>/file.css" or "/crm.css"
        first, _, _rest = path.lstrip("/").partition("/")
        if first in web.static_dirs:
            if not await run_in_threadpool(web.kernel.host.is_enabled, first):
                raise HTTPException(404)
            files = self._plugins.get(first)
            if files is None:
                files = self._plugins[first] = StaticFiles(directory=web.static_dirs[first])
            child = {**scope, "root_path": scope.get("root_path", "") + "/" + first}
            await files(child, receive, send)
            return
        await self.core(scope, receive, send)


def static_mount() -> Mount:
    mount = Mount("/static", app=StaticDispatcher(), name="static")
    mount.crm_public = True  # type: ignore[attr-defined]
    return mount
