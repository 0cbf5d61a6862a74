"""The crm_core.testing fixtures plugin authors use: each one does what docs/integrators.md says."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from crm_core.declarations import Action, MenuItem, Panel, RouteDecl
from crm_core.hookspecs import hookimpl
from crm_core.models import AuditEntry, Contact, OutboxEvent
from crm_core.plugin_system.manifest import Manifest
from crm_core.testing_web import PASSWORD, CrmSite, register_temporarily
from crm_core.web import render


def hello_page(request: Request) -> Response:
    return render(request, "base.html")


def hello_api(request: Request) -> Response:
    return JSONResponse({"hello": "world"})


class HelloHooks:
    @hookimpl
    def register_permissions(self, kernel: Any) -> list[Action]:
        return [Action("hello.use", "问候", "Say hello", defaults={"sales_rep": True})]

    @hookimpl
    def register_routes(self, kernel: Any) -> list[RouteDecl]:
        return [RouteDecl("/", hello_page, permission="hello.use"),
                RouteDecl("/ping", hello_api, permission="hello.use", api=True)]

    @hookimpl
    def register_menu_items(self, kernel: Any) -> list[MenuItem]:
        return [MenuItem("hello.page", "问候", "Hello", "/hello/", permission="hello.use")]

    @hookimpl
    def customer_panels(self, kernel: Any, ctx: Any, customer: Any) -> list[Panel]:
        return [Panel("hello.panel", "Hello", f"<p>hello-panel-{customer.id}</p>")]


HELLO = Manifest(name="hello", version="1.0.0", hooks=HelloHooks())
NEEDS_HELLO = Manifest(name="hello_fan", version="0.1.0", depends=("hello",), hooks=object())


@pytest.fixture
def crm_plugins() -> list[Manifest]:
    return [HELLO]


def count(kernel: Any, model: Any, *where: Any) -> int:
    with kernel.new_session() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_crm_app_has_only_the_chosen_plugins_enabled(crm_app: CrmSite) -> None:
    host = crm_app.kernel.host
    assert host.loaded() == ["hello"] and host.enabled(refresh=True) == {"hello"}
    assert crm_app.client().get("/hello/").status_code == 303  # to the sign-in page


@pytest.mark.parametrize(("role", "status"), [("sales_rep", 200), ("viewer", 403), ("admin", 403)])
def test_login_as_gives_a_fresh_user_of_that_role(login_as: Any, role: str, status: int) -> None:
    c = login_as(role)
    assert c.user.login.startswith(role.replace("_", "-"))
    assert c.get("/hello/").status_code == status
    assert ('href="/hello/"' in c.get("/").text) is (status == 200)


def test_login_as_in_english_and_two_users_differ(login_as: Any) -> None:
    a, b = login_as("sales_rep", locale="en"), login_as("sales_rep")
    assert a.user.id != b.user.id and a.session_cookie != b.session_cookie
    assert 'lang="en"' in a.get("/").text and 'lang="zh' in b.get("/").text


def test_api_client_uses_a_bearer_token(crm_app: CrmSite) -> None:
    api = crm_app.api_client("sales_rep")
    assert api.get("/api/v1/hello/ping").json() == {"hello": "world"}
    assert crm_app.api_client("viewer").get("/api/v1/hello/ping").status_code == 403


def test_factories_go_through_the_services(crm_app: CrmSite, crm_factory: Any, login_as: Any) -> None:
    k = crm_app.kernel
    rep = crm_factory.user("sales_rep", login="li.na", locale="en")
    assert rep.login == "li.na"
    customer = crm_factory.customer(as_user="li.na", name="杭州茶叶有限公司", industry=None)
    assert customer.owner_id == rep.id and customer.code.startswith("C")
    contact = crm_factory.contact(customer.id, as_user="li.na", name="王芳", phone="13812345678")
    assert contact.customer_id == customer.id and contact.name == "王芳"
    with k.new_session() as s:
        row = s.get(Contact, contact.id)
        assert k.cipher.decrypt(row.phone_enc) == "+8613812345678"  # normalised, encrypted
    extra = crm_factory.contact()  # a customer of its own
    assert extra.customer_id != customer.id
    assert count(k, OutboxEvent, OutboxEvent.name == "customer.created") == 2
    assert count(k, AuditEntry, AuditEntry.action == "user.create") == 1
    assert count(k, AuditEntry, AuditEntry.entity == "contact") == 2
    # the rep sees the customer page with the plugin's panel
    c = crm_app.client()
    assert c.login("li.na", PASSWORD).status_code == 303
    assert f"hello-panel-{customer.id}" in c.get(f"/customers/{customer.id}").text


def test_factories_refuse_bad_input(crm_factory: Any) -> None:
    from crm_core.errors import ValidationError

    with pytest.raises(ValidationError):
        crm_factory.customer(name="")
    with pytest.raises(ValidationError):
        crm_factory.user("no_such_role")


def test_register_temporarily_adds_and_removes_a_hook_object(crm_app: CrmSite, crm_factory: Any,
                                                             register_temporarily: Any) -> None:
    seen: list[str] = []

    class Spy:
        @hookimpl
        def on_event(self, event: Any) -> None:
            seen.append(event.name)

    with register_temporarily(Spy(), name="spy") as manifest:
        assert manifest.name == "spy" and "spy" in crm_app.kernel.host.enabled(refresh=True)
        crm_factory.customer()
    crm_factory.customer()
    assert seen == ["customer.created"]
    assert "spy" not in crm_app.kernel.host.records


def test_register_temporarily_mounts_a_manifest_s_routes(crm_app: CrmSite, login_as: Any,
                                                         register_temporarily: Any) -> None:
    def page(request: Request) -> Response:
        return JSONResponse({"temp": True})

    class Temp:
        @hookimpl
        def register_routes(self, kernel: Any) -> list[RouteDecl]:
            return [RouteDecl("/x", page, api=True)]

    rep = login_as("sales_rep")
    with register_temporarily(Manifest(name="temp", version="0.1.0", hooks=Temp())):
        assert rep.get("/api/v1/temp/x").json() == {"temp": True}
    assert rep.get("/api/v1/temp/x").status_code == 404
    with pytest.raises(ValueError, match="already registered"), \
            register_temporarily(Manifest(name="hello", version="2.0", hooks=object())):
        pass
    with pytest.raises(ValueError, match="depends on nothere"), \
            register_temporarily(Manifest(name="orphan", version="1.0", depends=("nothere",),
                                          hooks=object())):
        pass


def test_register_temporarily_on_a_bare_kernel(kernel: Any) -> None:
    calls: list[str] = []

    class Starter:
        @hookimpl
        def on_startup(self, kernel: Any) -> None:
            calls.append("up")

    with register_temporarily(kernel, Starter()):
        kernel.notify("on_startup")
    kernel.notify("on_startup")
    assert calls == ["up"]


def test_make_crm_site_with_other_plugins(make_crm_site: Any) -> None:
    both = make_crm_site(plugins=[HELLO, NEEDS_HELLO], enabled=["hello_fan"])
    assert both.kernel.host.enabled(refresh=True) == {"hello", "hello_fan"}
    assert both.login_as("sales_rep").get("/hello/").status_code == 200


def test_make_crm_site_with_a_plugin_off(make_crm_site: Any) -> None:
    off = make_crm_site(plugins=[HELLO], enabled=[])
    assert off.kernel.host.enabled(refresh=True) == frozenset()
    assert off.login_as("sales_rep").get("/hello/").status_code == 404


def test_assert_runs_with_only_declared_dependencies(
        assert_runs_with_only_declared_dependencies: Any) -> None:
    checked = assert_runs_with_only_declared_dependencies(NEEDS_HELLO, available=[HELLO])
    assert checked["enabled"] == ["hello", "hello_fan"]
    alone = assert_runs_with_only_declared_dependencies(HELLO)
    assert alone["routes"] == ["/hello/", "/api/v1/hello/ping"]


def test_assert_runs_with_only_declared_dependencies_catches_a_broken_route(
        assert_runs_with_only_declared_dependencies: Any) -> None:
    def broken(request: Request) -> Response:
        raise RuntimeError("needs a plugin it did not declare")

    class Broken:
        @hookimpl
        def register_routes(self, kernel: Any) -> list[RouteDecl]:
            return [RouteDecl("/", broken)]

    with pytest.raises(AssertionError, match="answered 500"):
        assert_runs_with_only_declared_dependencies(Manifest(name="brk", version="1.0", hooks=Broken()))
    with pytest.raises(AssertionError, match="neither given"):
        assert_runs_with_only_declared_dependencies(
            Manifest(name="lonely", version="1.0", depends=("no_such_dep",), hooks=object()))


def test_users_from_every_factory_of_a_kernel_get_distinct_logins(crm_app: CrmSite, crm_factory: Any,
                                                                   login_as: Any) -> None:
    made = {crm_factory.user("sales_rep").login, login_as("sales_rep").user.login,
            crm_app.api_client("sales_rep").user.login, crm_app.factories.user("sales_rep").login}
    assert len(made) == 4
