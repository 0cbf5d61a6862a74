"""Helpers of the customer page tests: the small world, its test plugin, row extraction.

Who may read which customers of the world (``customers.read`` defaults):

========  ===============================================  ==========================
login     roles / team                                     reads
========  ===============================================  ==========================
admin     admin                                            all
mgr       sales_manager, manages team East                 East's: rep1's, rep2's, own
rep1      sales_rep, East                                  own (2)
rep2      sales_rep, East                                  own (1)
rep3      sales_rep, West                                  own (1)
agent     service_agent                                    all (sees phones)
mkt       marketing                                        all (phones masked)
viewer    viewer                                           all (phones masked)
en_rep    sales_rep, West, English UI                      own (none)
========  ===============================================  ==========================
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from crm_core.context import Ctx
from crm_core.declarations import Panel
from crm_core.hookspecs import hookimpl
from crm_core.kernel import Kernel
from crm_core.models import User
from crm_core.passwords import hash_password
from crm_core.plugin_system.manifest import Manifest
from crm_core.services.customers import create_customer
from crm_core.services.roles import set_user_roles
from crm_core.services.users import actor_for

PASSWORD = "correct-horse-battery"  # the web harness's Client.login default
XSS_NAME = '<script>alert("x")</script>华东机械'
PHONE = "13812345678"
MASKED = "138****5678"


class PanelPlug:
    """The test plugin: a panel on every customer's 360° page and a dashboard widget."""

    @hookimpl
    def customer_panels(self, kernel: Kernel, ctx: Ctx, customer: Any) -> list[Panel]:
        return [Panel("panelplug-orders", "Orders (panelplug)",
                      f'<p class="panelplug">orders of {html.escape(customer.code)}</p>', order=10)]

    @hookimpl
    def dashboard_widgets(self, kernel: Kernel, ctx: Ctx) -> list[Panel]:
        return [Panel("panelplug-widget", "Plugin widget", "<p>from panelplug</p>", order=15)]


PANELPLUG = Manifest(name="panelplug", version="0.1.0", summary="panels for page tests",
                     hooks=PanelPlug())


@cache
def _password_hash() -> str:
    return hash_password(PASSWORD)


def add_user(kernel: Kernel, login: str, *roles: str, locale: str = "zh_CN", name: str = "") -> int:
    with kernel.new_session(write=True) as s, s.begin():
        user = User(login=login, display_name=name or login.upper(), password_hash=_password_hash(),
                    locale=locale)
        s.add(user)
        s.flush()
        uid = user.id
    if roles:
        set_user_roles(kernel.ctx(), login, list(roles))
    assert uid is not None
    return uid


@dataclass
class World:
    kernel: Kernel
    users: dict[str, int] = field(default_factory=dict)
    customers: dict[str, int] = field(default_factory=dict)  # name → id

    def ctx(self, login: str) -> Ctx:
        return self.kernel.ctx(actor_for(self.kernel.ctx(), login), "web")

    def add_customer(self, owner: str, name: str, **data: Any) -> int:
        c = create_customer(self.ctx(owner), {"name": name, **data})
        self.customers[c.name] = c.id
        return c.id

    def ids(self, *names: str) -> set[int]:
        return {self.customers[n] for n in names}


VISIBLE = {
    "admin": {XSS_NAME, "Rep1 Second", "Rep2 Co", "Rep3 West", "Mgr Own"},
    "mgr": {XSS_NAME, "Rep1 Second", "Rep2 Co", "Mgr Own"},
    "rep1": {XSS_NAME, "Rep1 Second"},
    "rep2": {"Rep2 Co"},
    "rep3": {"Rep3 West"},
    "agent": {XSS_NAME, "Rep1 Second", "Rep2 Co", "Rep3 West", "Mgr Own"},
    "mkt": {XSS_NAME, "Rep1 Second", "Rep2 Co", "Rep3 West", "Mgr Own"},
    "viewer": {XSS_NAME, "Rep1 Second", "Rep2 Co", "Rep3 West", "Mgr Own"},
    "en_rep": set(),
}


ROW = re.compile(r'<tr data-customer="(\d+)"')


def listed(page: str) -> set[int]:
    """The customer ids of the rows of a list page."""
    return {int(i) for i in ROW.findall(page)}
