"""on_entity_created: after commit, once, to enabled plugins, with the new values."""

from __future__ import annotations

from collections.abc import Callable

from crm_core.events import DomainEvent
from crm_core.hookspecs import hookimpl
from crm_core.kernel import Kernel
from crm_core.plugin_system.manifest import Manifest
from crm_core.services.contacts import create_contact
from crm_core.services.customers import create_customer


class Created:
    def __init__(self) -> None:
        self.events: list[DomainEvent] = []

    @hookimpl
    def on_entity_created(self, kernel: Kernel, event: DomainEvent) -> None:
        self.events.append(event)


def test_hook_on_entity_created(make_kernel: Callable[..., Kernel]) -> None:
    on, off = Created(), Created()
    k = make_kernel(plugins=[Manifest(name="hkcreated", version="0.1.0", hooks=on),
                             Manifest(name="hkcreatedoff", version="0.1.0", hooks=off)],
                    enabled=["hkcreated"])
    c = create_customer(k.ctx(), {"name": "ACME", "type": "enterprise", "region": "east"})
    (ev,) = on.events
    assert (ev.name, ev.kind, ev.entity, ev.entity_id) == ("customer.created", "created",
                                                           "customer", c.id)
    assert ev.payload["name"] == "ACME" and ev.payload["region"] == "east"
    assert ev.payload["code"] == c.code
    assert "id_number" not in ev.payload and "id_number_enc" not in ev.payload
    assert off.events == []

    create_contact(k.ctx(), {"customer_id": c.id, "name": "Li Lei"})
    assert [e.name for e in on.events] == ["customer.created", "contact.created"]
