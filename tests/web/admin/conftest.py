"""The admin pages' world: the web test plugin, two modules built in code where ``beta`` depends
on ``alpha`` (each with a menu entry and a page; ``alpha`` also owns an entity that takes custom
fields), a module that fails to load, the built-in roles and a user per kind of visitor.

=========  ==================  =====================================================
login      roles               may open
=========  ==================  =====================================================
admin      admin               every admin page
en_admin   admin, English UI   every admin page
mgr        sales_manager       the audit log only
rep        sales_rep           none
viewer     viewer              none
=========  ==================  =====================================================
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlmodel import Field, SQLModel
from starlette.requests import Request
from starlette.responses import HTMLResponse

from crm_core import passwords
from crm_core.declarations import EntityDecl, MenuItem, RouteDecl
from crm_core.hookspecs import hookimpl
from crm_core.kernel import Kernel
from crm_core.plugin_system.manifest import Manifest
from crm_core.services.roles import seed_builtin_grants
from crm_core.services.users import create_user

PASSWORD = "correct-horse-battery"
ADMIN_PAGES = ["/admin/modules", "/admin/users", "/admin/teams", "/admin/roles", "/admin/fields",
               "/admin/audit"]
ADMIN_MENU = ["admin.modules", "admin.users", "admin.teams", "admin.roles", "admin.fields", "admin.audit"]


class AlphaThing(SQLModel, table=True):
    __tablename__ = "alpha_thing"

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int | None = Field(default=None, foreign_key="crm_user.id", ondelete="SET NULL")


def _page(text: str) -> Callable[[Request], HTMLResponse]:
    def endpoint(request: Request) -> HTMLResponse:
        return HTMLResponse(f"<p>{text}</p>")

    return endpoint


class AlphaHooks:
    @hookimpl
    def register_entities(self, kernel: Any) -> list[EntityDecl]:
        return [EntityDecl("alpha.thing", AlphaThing, "阿尔法条目", "Alpha thing", owner_column="owner_id",
                           custom_fields=True)]

    @hookimpl
    def register_routes(self, kernel: Any) -> list[RouteDecl]:
        return [RouteDecl("/", _page("alpha"))]

    @hookimpl
    def register_menu_items(self, kernel: Any) -> list[MenuItem]:
        return [MenuItem("alpha.home", "阿尔法", "Alpha", "/alpha/", order=40)]


class BetaHooks:
    @hookimpl
    def register_routes(self, kernel: Any) -> list[RouteDecl]:
        return [RouteDecl("/", _page("beta"))]

    @hookimpl
    def register_menu_items(self, kernel: Any) -> list[MenuItem]:
        return [MenuItem("beta.home", "贝塔", "Beta", "/beta/", order=41)]


ALPHA = Manifest(name="alpha", version="1.0.0", summary="The alpha module", stages=("startup",),
                 label={"zh_CN": "阿尔法模块", "en": "Alpha module"}, hooks=AlphaHooks())
BETA = Manifest(name="beta", version="2.1.0", summary="Needs alpha", depends=("alpha",),
                stages=("growth",), label={"zh_CN": "贝塔模块", "en": "Beta module"}, hooks=BetaHooks())
BROKEN = Manifest(name="broken", version="0.1.0", summary="Wants a future core", requires_core=">=99")


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about the pages, not about argon2's cost (any hash still verifies)."""
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def web_kernel(make_kernel: Callable[..., Kernel], webplug: Manifest, tmp_path: Path,
               cheap_hashing: None) -> Kernel:
    k = make_kernel(plugins=[webplug, ALPHA, BETA, BROKEN], enabled=["webplug"], strict=False,
                    scheduler_enabled=False, instance_dir=str(tmp_path / "instance"))
    seed_builtin_grants(k.ctx())
    for login, role, locale in [("admin", "admin", "zh_CN"), ("en_admin", "admin", "en"),
                                ("mgr", "sales_manager", "zh_CN"), ("rep", "sales_rep", "zh_CN"),
                                ("viewer", "viewer", "zh_CN")]:
        create_user(k.ctx(), {"login": login, "password": PASSWORD, "display_name": login.title(),
                              "locale": locale}, roles=[role])
    return k


# --- reading pages ------------------------------------------------------------------------
def menu_keys(page: str) -> list[str]:
    return re.findall(r'data-key="([^"]+)"', page)


def field_errors(page: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'<p class="field-error"[^>]*>(.*?)</p>', page)]


def input_value(page: str, name: str) -> str | None:
    found = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*value="([^"]*)"', page)
    return html.unescape(found.group(1)) if found else None


def text(page: str) -> str:
    """The page's text without tags, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def row(page: str, row_id: str) -> str:
    """The text of the table row ``<tr id="row_id">``."""
    start = page.index(">", page.index(f'<tr id="{row_id}"')) + 1
    return text(page[start:page.index("</tr>", start)])


class Pages:
    """Helpers handed out as the ``pages`` fixture (conftest modules are not importable)."""

    PASSWORD = PASSWORD
    ADMIN_PAGES = ADMIN_PAGES
    ADMIN_MENU = ADMIN_MENU
    menu_keys = staticmethod(menu_keys)
    field_errors = staticmethod(field_errors)
    input_value = staticmethod(input_value)
    text = staticmethod(text)
    row = staticmethod(row)


@pytest.fixture(scope="session")
def pages() -> type[Pages]:
    return Pages


@pytest.fixture
def admin(client: Any) -> Any:
    """The client, signed in as ``admin``."""
    assert client.login("admin").status_code == 303
    return client
