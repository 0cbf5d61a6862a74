"""Fixtures of the pipeline plugin's tests: the plugin alone (it has no dependencies), the
built-in roles, two sales teams (east: manager + two reps; south: manager + one rep), an admin."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from crm_pipeline.manifest import manifest

from crm_core.context import Ctx
from crm_core.kernel import Kernel
from crm_core.plugin_system.manifest import Manifest
from crm_core.services.users import actor_for, create_team, set_membership
from crm_core.testing_web import Factories


@pytest.fixture
def crm_plugins() -> list[Manifest]:
    return [manifest]


@dataclass
class People:
    kernel: Kernel
    factory: Factories
    ids: dict[str, int]

    def ctx(self, login: str, interface: str = "web") -> Ctx:
        return self.kernel.ctx(actor_for(self.kernel.ctx(), login), interface)

    def customer(self, owner: str, **data: Any) -> Any:
        return self.factory.customer(as_user=owner, **data)


@pytest.fixture
def people(crm_kernel: Kernel, crm_factory: Factories) -> People:
    f = crm_factory
    ids: dict[str, int] = {}
    for login, role in (("admin", "admin"), ("mgr_east", "sales_manager"),
                        ("rep_a", "sales_rep"), ("rep_b", "sales_rep"),
                        ("mgr_south", "sales_manager"), ("rep_s", "sales_rep")):
        ids[login] = f.user(role, login=login, locale="en" if login == "rep_b" else "zh_CN").id
    sys = crm_kernel.ctx()
    create_team(sys, "east", manager="mgr_east")
    create_team(sys, "south", manager="mgr_south")
    for team, login in (("east", "rep_a"), ("east", "rep_b"), ("east", "mgr_east"),
                        ("south", "rep_s"), ("south", "mgr_south")):
        set_membership(sys, team, login, True)
    return People(crm_kernel, f, ids)
