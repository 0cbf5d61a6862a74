"""Fixtures of the leads plugin's tests: the plugin alone (it has no dependencies), the built-in
roles, two sales teams (east: manager + two reps; south: manager + one rep) and an admin."""

from __future__ import annotations

import pytest
from crm_leads.manifest import manifest
from leads_support import People

from crm_core.kernel import Kernel
from crm_core.plugin_system.manifest import Manifest
from crm_core.services.users import create_team, set_membership
from crm_core.testing_web import Factories


@pytest.fixture
def crm_plugins() -> list[Manifest]:
    return [manifest]


@pytest.fixture
def people(crm_kernel: Kernel, crm_factory: Factories) -> People:
    from sqlalchemy import select

    from crm_core.models import Team

    f = crm_factory
    ids: dict[str, int] = {}
    for login, role in (("admin", "admin"), ("mgr_east", "sales_manager"),
                        ("rep_a", "sales_rep"), ("rep_b", "sales_rep"),
                        ("mgr_south", "sales_manager"), ("rep_s", "sales_rep")):
        ids[login] = f.user(role, login=login, locale="en" if login == "rep_b" else "zh_CN").id
    sys = crm_kernel.ctx()
    create_team(sys, "east", manager="mgr_east")
    create_team(sys, "south", manager="mgr_south")
    for team, login in (("east", "rep_a"), ("east", "rep_b"), ("south", "rep_s")):
        set_membership(sys, team, login, True)
    with crm_kernel.new_session() as s:
        teams = {t.name: t.id for t in s.scalars(select(Team))}
    return People(crm_kernel, f, ids, teams)
