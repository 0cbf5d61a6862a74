"""register_permissions: actions join the kernel's catalogue; enabling seeds their defaults."""

from __future__ import annotations

from collections.abc import Callable

from crm_core.declarations import Action
from crm_core.hookspecs import hookimpl
from crm_core.kernel import Kernel
from crm_core.migrate import enable_plugins
from crm_core.plugin_system.manifest import Manifest
from crm_core.services.roles import role_grants, seed_builtin_grants

APPROVE = Action("hkperm.approve", "审批", "Approve", defaults={"admin": True, "sales_manager": True})
READ = Action("hkperm.read", "查看", "Read", entity="customer",
              defaults={"admin": "all", "sales_rep": "own"})


class Hooks:
    @hookimpl
    def register_permissions(self, kernel: Kernel) -> list[Action]:
        return [APPROVE, READ]


def test_hook_register_permissions(make_kernel: Callable[..., Kernel]) -> None:
    k = make_kernel(plugins=[Manifest(name="hkperm", version="0.1.0", hooks=Hooks())])
    ctx = k.ctx()
    assert k.actions["hkperm.approve"] == (APPROVE, "hkperm")
    assert k.actions["hkperm.read"] == (READ, "hkperm")
    assert k.actions["customers.read"][1] == "core"
    assert "hkperm.approve" not in k.active_actions()  # a disabled plugin's actions are inactive
    seed_builtin_grants(ctx)
    assert "hkperm.approve" not in role_grants(ctx, "admin")

    enable_plugins(k, ["hkperm"])  # first enable: built-in roles get the declared defaults
    assert "hkperm.approve" in k.active_actions()
    assert role_grants(ctx, "sales_manager")["hkperm.approve"] is None
    assert role_grants(ctx, "admin")["hkperm.read"] == "all"
    assert role_grants(ctx, "sales_rep")["hkperm.read"] == "own"
    assert "hkperm.approve" not in role_grants(ctx, "viewer")
