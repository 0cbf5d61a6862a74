"""register_menu_items: collected into ``kernel.menu``; a disabled plugin's items drop out.

The web layer (not built yet) shows the items of active plugins whose permission the user
holds; this pins the declarations and the enabled-state filtering it will rely on.
"""

from __future__ import annotations

from collections.abc import Callable

from crm_core.declarations import MenuItem
from crm_core.hookspecs import hookimpl
from crm_core.kernel import Kernel
from crm_core.migrate import enable_plugins
from crm_core.plugin_system.manifest import Manifest

ITEM = MenuItem("hkmenu.board", "看板", "Board", "/hkmenu/board", permission="hkmenu.read",
                order=30)


class Hooks:
    @hookimpl
    async def register_menu_items(self, kernel: Kernel) -> list[MenuItem]:
        return [ITEM]  # registration hooks may be async too


def active_menu(k: Kernel) -> list[MenuItem]:
    return sorted((m for m, plugin in k.menu if k.is_active(plugin)), key=lambda m: m.order)


def test_hook_register_menu_items(make_kernel: Callable[..., Kernel]) -> None:
    k = make_kernel(plugins=[Manifest(name="hkmenu", version="0.1.0", hooks=Hooks())])
    assert [x for x in k.menu if x[1] != "core"] == [(ITEM, "hkmenu")]  # the kernel has its own
    assert ITEM not in active_menu(k)

    enable_plugins(k, ["hkmenu"])
    assert ITEM in active_menu(k)

    k.host.set_enabled(["hkmenu"], False)
    assert ITEM not in active_menu(k)
