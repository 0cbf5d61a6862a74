"""Admin → Modules → a module: version, dependencies both ways, hooks, routes, permissions,
jobs and tables, in the admin's language; only for module managers."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Field, SQLModel

from crm_core.declarations import Action, EntityDecl, JobDecl, RouteDecl
from crm_core.hookspecs import hookimpl
from crm_core.plugin_system.manifest import Manifest


class DepotCrate(SQLModel, table=True):
    __tablename__ = "depot_crate"

    id: int | None = Field(default=None, primary_key=True)
    label: str = Field(max_length=40)


def _crates(request: Any) -> Any:
    from starlette.responses import JSONResponse

    return JSONResponse([])


class DepotHooks:
    @hookimpl
    def register_entities(self, kernel: Any) -> list[EntityDecl]:
        return [EntityDecl(name="depot.crate", model=DepotCrate)]

    @hookimpl
    def register_permissions(self, kernel: Any) -> list[Action]:
        return [Action("depot.count", "清点", "Count crates", defaults={"admin": True, "sales_rep": True})]

    @hookimpl
    def register_routes(self, kernel: Any) -> list[RouteDecl]:
        return [RouteDecl("/crates", _crates, permission="depot.count", api=True)]

    @hookimpl
    def register_jobs(self, kernel: Any) -> list[JobDecl]:
        return [JobDecl("depot.recount", lambda k, f: None, trigger="interval", trigger_args={"hours": 6},
                        description="Recount the crates")]


DEPOT = Manifest(name="depot", version="3.1.4", summary="Crates", hooks=DepotHooks(),
                 requires_core=">=0.1,<0.2")
DEPOT_FAN = Manifest(name="depot_fan", version="0.2.0", depends=("depot",), hooks=object())


@pytest.fixture
def crm_plugins() -> list[Manifest]:
    return [DEPOT, DEPOT_FAN]


@pytest.fixture
def crm_enabled() -> list[str]:
    return ["depot"]


def test_module_detail_page_lists_every_contribution(crm_app: Any, login_as: Any) -> None:
    admin = login_as("admin", locale="en")
    listing = admin.get("/admin/modules").text
    assert 'href="/admin/modules/depot"' in listing
    page = admin.get("/admin/modules/depot")
    assert page.status_code == 200
    html = page.text
    for fact in ("3.1.4", "&gt;=0.1,&lt;0.2", "depot_crate", "register_entities", "register_jobs",
                 "register_permissions", "register_routes", "/api/v1/depot/crates", "depot.count",
                 "Count crates", "depot.recount", "Recount the crates", "Hooks implemented", "Tables"):
        assert fact in html, fact
    assert '<td id="module-dependents">depot_fan</td>' in html
    fan = admin.get("/admin/modules/depot_fan").text
    assert '<td id="module-depends">depot</td>' in fan and "badge off" in fan


def test_module_detail_in_chinese_and_refusals(crm_app: Any, login_as: Any) -> None:
    admin = login_as("admin")
    html = admin.get("/admin/modules/depot").text
    assert "实现的钩子" in html and "数据表" in html and "定时任务" in html
    assert admin.get("/admin/modules/nope").status_code == 404
    assert login_as("sales_rep").get("/admin/modules/depot").status_code == 403
