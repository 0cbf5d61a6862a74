"""dashboard_widgets: a UI slot. The home dashboard (not built yet) will call it through the
host's hook caller and show all results flattened, sorted by order; this pins that contract
and the disabled-plugin filtering."""

from __future__ import annotations

from collections.abc import Callable

from crm_core.context import Ctx
from crm_core.declarations import Widget
from crm_core.hookspecs import hookimpl
from crm_core.kernel import Kernel
from crm_core.migrate import enable_plugins
from crm_core.plugin_system.manifest import Manifest


class Funnel:
    @hookimpl
    def dashboard_widgets(self, kernel: Kernel, ctx: Ctx) -> list[Widget]:
        return [Widget("hkfunnel.funnel", "销售漏斗", f"<svg><!-- {ctx.actor.login} --></svg>", 50)]


class Reminders:
    @hookimpl
    def dashboard_widgets(self, kernel: Kernel, ctx: Ctx) -> list[Widget]:
        return [Widget("hkremind.today", "今日提醒", "<ul></ul>", 5)]


def widgets(k: Kernel, ctx: Ctx) -> list[str]:
    results = k.host.hook_caller("dashboard_widgets")(kernel=k, ctx=ctx)
    return [w.key for w in sorted((w for r in results for w in r), key=lambda w: w.order)]


def test_hook_dashboard_widgets(make_kernel: Callable[..., Kernel]) -> None:
    k = make_kernel(plugins=[Manifest(name="hkfunnel", version="0.1.0", hooks=Funnel()),
                             Manifest(name="hkremind", version="0.1.0", hooks=Reminders())])
    ctx = k.ctx()
    assert widgets(k, ctx) == []

    enable_plugins(k, ["hkfunnel", "hkremind"])
    assert widgets(k, ctx) == ["hkremind.today", "hkfunnel.funnel"]

    k.host.set_enabled(["hkremind"], False)
    assert widgets(k, ctx) == ["hkfunnel.funnel"]
