"""on_entity_deleted: after commit, with the record's last values."""

from __future__ import annotations

from collections.abc import Callable

from crm_core.events import DomainEvent
from crm_core.hookspecs import hookimpl
from crm_core.kernel import Kernel
from crm_core.models import Customer
from crm_core.plugin_system.manifest import Manifest
from crm_core.services.customers import create_customer, delete_customer


class Deleted:
    def __init__(self) -> None:
        self.events: list[DomainEvent] = []
        self.gone: list[bool] = []

    @hookimpl
    def on_entity_deleted(self, kernel: Kernel, event: DomainEvent) -> None:
        self.events.append(event)
        with kernel.new_session() as s:
            self.gone.append(s.get(Customer, event.entity_id) is None)


def test_hook_on_entity_deleted(make_kernel: Callable[..., Kernel]) -> None:
    on, off = Deleted(), Deleted()
    k = make_kernel(plugins=[Manifest(name="hkdeleted", version="0.1.0", hooks=on),
                             Manifest(name="hkdeletedoff", version="0.1.0", hooks=off)],
                    enabled=["hkdeleted"])
    c = create_customer(k.ctx(), {"name": "ACME", "type": "enterprise", "industry": None})
    delete_customer(k.ctx(), c.id)
    (ev,) = on.events
    assert (ev.name, ev.kind, ev.entity, ev.entity_id) == ("customer.deleted", "deleted",
                                                           "customer", c.id)
    assert ev.payload["id"] == c.id
    assert ev.payload["name"] == "ACME" and ev.payload["code"] == c.code
    assert on.gone == [True]  # delivered after the delete committed
    assert off.events == []
