"""register_routes: collected into ``kernel.routes``; a disabled plugin's routes drop out.

The web layer (not built yet) mounts ``kernel.routes`` of active plugins; this pins what it
will consume: the declarations, their plugin, and the filtering by enabled state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crm_core.declarations import RouteDecl
from crm_core.hookspecs import hookimpl
from crm_core.kernel import Kernel
from crm_core.migrate import enable_plugins
from crm_core.plugin_system.manifest import Manifest


async def things(request: Any) -> Any:
    raise NotImplementedError


PAGE = RouteDecl("/things", things, permission="hkroute.read", name="things")
API = RouteDecl("/things", things, methods=("GET", "POST"), permission="hkroute.read", api=True)


class Hooks:
    @hookimpl
    def register_routes(self, kernel: Kernel) -> list[RouteDecl]:
        return [PAGE, API]


def active_routes(k: Kernel) -> list[RouteDecl]:
    return [r for r, plugin in k.routes if k.is_active(plugin)]


def test_hook_register_routes(make_kernel: Callable[..., Kernel]) -> None:
    k = make_kernel(plugins=[Manifest(name="hkroute", version="0.1.0", hooks=Hooks())])
    assert k.routes == [(PAGE, "hkroute"), (API, "hkroute")]
    assert active_routes(k) == []
    assert k.host.hook_caller("register_routes")(kernel=k) == []

    enable_plugins(k, ["hkroute"])
    assert active_routes(k) == [PAGE, API]
    assert k.host.hook_caller("register_routes")(kernel=k) == [[PAGE, API]]

    k.host.set_enabled(["hkroute"], False)
    assert active_routes(k) == []
