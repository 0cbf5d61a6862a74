"""customer_panels: a UI slot. The customer 360° page (not built yet) will call it through the
host's hook caller and show all results flattened, sorted by order; this pins that contract
and the disabled-plugin filtering."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

from crm_core.context import Ctx
from crm_core.declarations import Panel
from crm_core.hookspecs import hookimpl
from crm_core.kernel import Kernel
from crm_core.migrate import enable_plugins
from crm_core.plugin_system.manifest import Manifest
from crm_core.services.customers import create_customer, get_customer


class Orders:
    @hookimpl
    def customer_panels(self, kernel: Kernel, ctx: Ctx, customer: Any) -> list[Panel]:
        return [Panel("hkorders.orders", "订单", f"<p>{escape(customer.name)}: 3 orders</p>", 20),
                Panel("hkorders.invoices", "发票", "<p>none</p>", 40)]


class Tickets:
    @hookimpl
    async def customer_panels(self, customer: Any) -> list[Panel]:
        return [Panel("hktickets.open", "工单", f"<p>#{customer.id}: 1 open</p>", 10)]


def panels(k: Kernel, ctx: Ctx, customer: Any) -> list[str]:
    results = k.host.hook_caller("customer_panels")(kernel=k, ctx=ctx, customer=customer)
    return [p.key for p in sorted((p for r in results for p in r), key=lambda p: p.order)]


def test_hook_customer_panels(make_kernel: Callable[..., Kernel]) -> None:
    k = make_kernel(plugins=[Manifest(name="hkorders", version="0.1.0", hooks=Orders()),
                             Manifest(name="hktickets", version="0.1.0", hooks=Tickets())])
    ctx = k.ctx()
    c = get_customer(ctx, create_customer(ctx, {"name": "A&B", "type": "enterprise"}).id)
    assert panels(k, ctx, c) == []

    enable_plugins(k, ["hkorders", "hktickets"])
    assert panels(k, ctx, c) == ["hktickets.open", "hkorders.orders", "hkorders.invoices"]
    results = k.host.hook_caller("customer_panels")(kernel=k, ctx=ctx, customer=c)
    assert "<p>A&amp;B: 3 orders</p>" in [p.html for r in results for p in r]

    k.host.set_enabled(["hktickets"], False)
    assert panels(k, ctx, c) == ["hkorders.orders", "hkorders.invoices"]
