"""Fixtures of the customer page tests: a kernel with the panel test plugin, the small world
(see :mod:`pages_support`) and signed-in browsers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pages_support import (
    PANELPLUG,
    XSS_NAME,
    World,
    add_user,
)

from crm_core.kernel import Kernel
from crm_core.services.roles import seed_builtin_grants
from crm_core.services.users import create_team, set_membership


@pytest.fixture
def web_kernel(make_kernel: Callable[..., Kernel], tmp_path: Path) -> Kernel:
    """The page tests' kernel: the panel plugin enabled, built-in roles, no scheduler."""
    k = make_kernel(plugins=[PANELPLUG], enabled=["panelplug"], scheduler_enabled=False,
                    instance_dir=str(tmp_path / "instance"))
    seed_builtin_grants(k.ctx())
    return k


@pytest.fixture
def world(web_kernel: Kernel) -> World:
    w = World(web_kernel)
    for login, role, locale in (
        ("admin", "admin", "zh_CN"), ("mgr", "sales_manager", "zh_CN"),
        ("rep1", "sales_rep", "zh_CN"), ("rep2", "sales_rep", "zh_CN"),
        ("rep3", "sales_rep", "zh_CN"), ("agent", "service_agent", "zh_CN"),
        ("mkt", "marketing", "zh_CN"), ("viewer", "viewer", "zh_CN"),
        ("en_rep", "sales_rep", "en"),
    ):
        w.users[login] = add_user(web_kernel, login, role, locale=locale)
    system = web_kernel.ctx()
    create_team(system, "East", manager="mgr")
    create_team(system, "West")
    for login, team in (("rep1", "East"), ("rep2", "East"), ("rep3", "West"), ("en_rep", "West")):
        set_membership(system, team, login, True)
    w.add_customer("rep1", XSS_NAME, status="won", industry="C", region="华东", source="referral",
                   contacts=[{"name": "张伟", "phone": "138 1234 5678", "email": "zhang@example.cn"}])
    w.add_customer("rep1", "Rep1 Second", status="potential", industry="I")
    w.add_customer("rep2", "Rep2 Co", status="won", industry="I",
                   contacts=[{"name": "李娜", "phone": "+86 139-0000-1111"}])
    w.add_customer("rep3", "Rep3 West", status="churned", region="西南")
    w.add_customer("mgr", "Mgr Own", status="potential")
    return w


@pytest.fixture
def as_user(site: Any) -> Callable[[str], Any]:
    """``as_user(login)`` → a new signed-in browser."""

    def make(login: str) -> Any:
        c = site.client()
        assert c.login(login).status_code == 303
        return c

    return make
