"""on_event: every domain event, the kernel's and those plugins emit themselves."""

from __future__ import annotations

from collections.abc import Callable

from crm_core.events import DomainEvent
from crm_core.hookspecs import hookimpl
from crm_core.kernel import Kernel
from crm_core.plugin_system.manifest import Manifest
from crm_core.services.customers import create_customer, delete_customer, update_customer


class Everything:
    def __init__(self) -> None:
        self.names: list[str] = []
        self.created: list[str] = []

    @hookimpl
    def on_event(self, kernel: Kernel, event: DomainEvent) -> None:
        self.names.append(event.name)

    @hookimpl
    def on_entity_created(self, kernel: Kernel, event: DomainEvent) -> None:
        self.created.append(event.name)


def test_hook_on_event(make_kernel: Callable[..., Kernel]) -> None:
    on, off = Everything(), Everything()
    k = make_kernel(plugins=[Manifest(name="hkevent", version="0.1.0", hooks=on),
                             Manifest(name="hkeventoff", version="0.1.0", hooks=off)],
                    enabled=["hkevent"])
    c = create_customer(k.ctx(), {"name": "ACME", "type": "enterprise"})
    update_customer(k.ctx(), c.id, {"remark": "vip"})
    ctx = k.ctx()
    with ctx.uow() as s:  # a plugin's own event, in its own transaction
        k.events.emit(ctx, s, "hkevent.opportunity_won", "hkevent.opportunity", 7,
                      {"amount": "1000.00", "currency": "CNY"})
    delete_customer(k.ctx(), c.id)

    assert on.names == ["customer.created", "customer.updated", "hkevent.opportunity_won",
                        "customer.deleted"]
    assert on.created == ["customer.created"]  # on_entity_* only for created/updated/deleted
    assert off.names == []
