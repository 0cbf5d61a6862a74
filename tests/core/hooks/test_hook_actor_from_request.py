"""actor_from_request: first non-None answer wins. The web layer (not built yet) will call it
through the host's hook caller; this pins order and the disabled-plugin filtering."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request

from crm_core.hookspecs import hookimpl
from crm_core.kernel import Kernel
from crm_core.migrate import enable_plugins
from crm_core.permissions.actor import Actor
from crm_core.plugin_system.manifest import Manifest


class Sso:
    @hookimpl
    def actor_from_request(self, kernel: Kernel, request: Request) -> Actor | None:
        login = request.headers.get("x-sso-user")
        return Actor(id=None, login=login) if login else None


class Token:
    def __init__(self) -> None:
        self.asked = 0

    @hookimpl
    def actor_from_request(self, kernel: Kernel, request: Request) -> Actor | None:
        self.asked += 1
        if request.headers.get("authorization") == "Bearer t0k3n":
            return Actor(id=None, login="api-bot")
        return None


def request(**headers: str) -> Request:
    raw = [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": raw,
                    "query_string": b""})


def test_hook_actor_from_request(make_kernel: Callable[..., Kernel]) -> None:
    token = Token()
    k = make_kernel(plugins=[Manifest(name="hksso", version="0.1.0", hooks=Sso()),
                             Manifest(name="hktoken", version="0.1.0", hooks=token)])

    def who(req: Request) -> Any:
        actor = k.host.hook_caller("actor_from_request")(kernel=k, request=req)
        return actor.login if actor else None

    both = request(x_sso_user="alice", authorization="Bearer t0k3n")
    assert who(both) is None  # nobody enabled: anonymous
    assert token.asked == 0

    enable_plugins(k, ["hksso", "hktoken"])
    assert who(both) == "api-bot"  # hktoken registered last, asked first, answers
    assert who(request(x_sso_user="alice")) == "alice"  # None lets the next one try
    assert who(request()) is None

    k.host.set_enabled(["hktoken"], False)
    asked = token.asked
    assert who(both) == "alice"
    assert token.asked == asked
