"""Module toggling through the service (permission, audit, dependencies) and the audit reader."""

from __future__ import annotations

from typing import Any

import pytest

from crm_core.errors import PermissionDenied, PluginDependencyError, ValidationError
from crm_core.hookspecs import hookimpl
from crm_core.plugin_system import Manifest
from crm_core.services import plugins as plugin_svc
from crm_core.services.audit import list_audit
from crm_core.services.customers import create_customer, update_customer
from crm_core.services.roles import seed_builtin_grants


class _Nothing:
    @hookimpl
    def on_startup(self, kernel: Any) -> None:
        return None


BASE = Manifest(name="base", version="1.0.0", hooks=_Nothing())
TOP = Manifest(name="top", version="1.0.0", depends=("base",), hooks=_Nothing())


@pytest.fixture
def k(make_kernel: Any) -> Any:
    kernel = make_kernel(plugins=[BASE, TOP])
    seed_builtin_grants(kernel.ctx())
    return kernel


def test_enable_takes_dependencies_and_is_audited(k: Any, helpers: Any) -> None:
    admin = k.ctx(helpers.add_user(k, "admin", "admin"), "web")
    assert plugin_svc.enable(admin, ["top"]) == ["base", "top"]
    infos = {p.name: p for p in plugin_svc.list_plugins(admin)}
    assert infos["top"].enabled and infos["base"].enabled and infos["base"].dependents == ("top",)
    entry = list_audit(admin, {"action": "plugin.enable"}).items[0]
    assert entry.actor_login == "admin" and entry.interface == "web"
    assert entry.changes == {"base": [False, True], "top": [False, True]}


def test_disable_refuses_with_dependents_then_cascades(k: Any, helpers: Any) -> None:
    admin = k.ctx(helpers.add_user(k, "admin", "admin"))
    plugin_svc.enable(admin, ["top"])
    with pytest.raises(PluginDependencyError, match="top"):
        plugin_svc.disable(admin, ["base"])
    assert k.host.enabled(refresh=True) == {"base", "top"}
    assert plugin_svc.disable(admin, ["base"], cascade=True) == ["top", "base"]
    assert k.host.enabled(refresh=True) == frozenset()
    assert list_audit(admin, {"action": "plugin.disable"}).items[0].summary == "top, base"


def test_only_plugins_manage_may_toggle(k: Any, helpers: Any) -> None:
    manager = k.ctx(helpers.add_user(k, "mgr", "sales_manager"))
    with pytest.raises(PermissionDenied):
        plugin_svc.enable(manager, ["base"])
    with pytest.raises(PermissionDenied):
        plugin_svc.disable(manager, ["base"])
    assert k.host.enabled(refresh=True) == frozenset()


def test_audit_filters_and_pages(k: Any, helpers: Any) -> None:
    admin_actor = helpers.add_user(k, "admin", "admin")
    rep = k.ctx(helpers.add_user(k, "rep", "sales_rep"), "api")
    admin = k.ctx(admin_actor)
    ids = [create_customer(rep, {"name": f"审计测试{i}有限公司"}).id for i in range(5)]
    update_customer(rep, ids[0], {"status": "won"})
    page = list_audit(admin, {"actor": "rep", "entity": "customer", "limit": 3})
    assert [e.action for e in page.items] == ["customer.update", "customer.create", "customer.create"]
    rest = list_audit(admin, {"actor": "rep", "entity": "customer", "cursor": page.next_cursor})
    assert len(rest.items) == 3 and rest.next_cursor is None
    assert {e.entity_id for e in page.items + rest.items} == set(ids)
    only = list_audit(admin, {"entity": "customer", "entity_id": ids[0], "action": "customer."})
    assert [e.action for e in only.items] == ["customer.update", "customer.create"]
    assert list_audit(admin, {"interface": "web", "entity": "customer"}).items == []
    with pytest.raises(PermissionDenied):
        list_audit(rep)
    with pytest.raises(ValidationError):
        list_audit(admin, {"cursor": "bm90LWEtY3Vyc29y"})
    with pytest.raises(ValidationError):
        list_audit(admin, {"nonsense": 1})
