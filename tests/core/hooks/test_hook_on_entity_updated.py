"""on_entity_updated: after commit, with ``payload["changes"]`` as field → [before, after]."""

from __future__ import annotations

from collections.abc import Callable

from crm_core.events import DomainEvent
from crm_core.hookspecs import hookimpl
from crm_core.kernel import Kernel
from crm_core.plugin_system.manifest import Manifest
from crm_core.services.customers import create_customer, update_customer


class Updated:
    def __init__(self) -> None:
        self.events: list[DomainEvent] = []

    @hookimpl
    def on_entity_updated(self, kernel: Kernel, event: DomainEvent) -> None:
        self.events.append(event)


def test_hook_on_entity_updated(make_kernel: Callable[..., Kernel]) -> None:
    on, off = Updated(), Updated()
    k = make_kernel(plugins=[Manifest(name="hkupdated", version="0.1.0", hooks=on),
                             Manifest(name="hkupdatedoff", version="0.1.0", hooks=off)],
                    enabled=["hkupdated"])
    c = create_customer(k.ctx(), {"name": "ACME", "type": "enterprise"})
    assert on.events == []  # a create is not an update

    update_customer(k.ctx(), c.id, {"remark": "vip", "name": "ACME Ltd"}, version=1)
    (ev,) = on.events
    assert (ev.name, ev.entity, ev.entity_id) == ("customer.updated", "customer", c.id)
    assert ev.payload["changes"] == {"remark": [None, "vip"], "name": ["ACME", "ACME Ltd"]}
    assert ev.payload["version"] == 2

    update_customer(k.ctx(), c.id, {"remark": "vip"})  # no change, no event
    assert len(on.events) == 1
    assert off.events == []
