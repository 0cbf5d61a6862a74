"""The plugin manager: dependencies, failures, order, namespaces, enabled state, discovery."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import Field, SQLModel

from crm_core.declarations import Action, EntityDecl, JobDecl
from crm_core.errors import PluginDependencyError, PluginError
from crm_core.hookspecs import hookimpl, hookspec
from crm_core.kernel import Kernel
from crm_core.migrate import enable_plugins
from crm_core.models import PluginState
from crm_core.permissions.catalog import KERNEL_ACTIONS
from crm_core.plugin_system import host as host_module
from crm_core.plugin_system.manifest import RESERVED_NAMES, Manifest
from crm_core.services.customers import create_customer, find_matches
from crm_core.testing import settings_for

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MakeKernel = Callable[..., Kernel]


class ShopExtraItem(SQLModel, table=True):
    """A table whose name carries both ``shop_`` and ``shop_extra_`` as prefix."""

    __tablename__ = "shop_extra_item"

    id: int | None = Field(default=None, primary_key=True)


class TogplugNote(SQLModel, table=True):
    __tablename__ = "togplug_note"

    id: int | None = Field(default=None, primary_key=True)
    body: str = Field(default="", max_length=200)


class Probe:
    """Hooks of a test plugin; every call is appended to a log shared by the test's plugins."""

    def __init__(self, name: str, log: list[Any] | None = None) -> None:
        self.name = name
        self.log = log if log is not None else []

    @hookimpl
    def find_customer_matches(
        self, kernel: Kernel, ctx: Any, name: str | None, phone: str | None, email: str | None
    ) -> list[Any]:
        self.log.append(self.name)
        return []

    @hookimpl
    def on_entity_created(self, kernel: Kernel, event: Any) -> None:
        self.log.append((self.name, event.name))


def plug(name: str, *depends: str, hooks: Any = None, log: list[Any] | None = None,
         **kw: Any) -> Manifest:
    return Manifest(name=name, version="0.1.0", depends=depends,
                    hooks=hooks if hooks is not None else Probe(name, log), **kw)


def customer(k: Kernel, name: str = "ACME") -> Any:
    return create_customer(k.ctx(), {"name": name, "type": "enterprise"})


# --- dependencies -------------------------------------------------------------------------
def test_enabling_a_plugin_enables_its_dependencies(make_kernel: MakeKernel) -> None:
    k = make_kernel(plugins=[plug("pc", "pb"), plug("pa"), plug("pb", "pa"), plug("pd")])
    assert enable_plugins(k, ["pc"]) == ["pa", "pb", "pc"]
    assert k.host.enabled(refresh=True) == {"pa", "pb", "pc"}
    assert enable_plugins(k, ["pc"]) == []  # idempotent


def test_disabling_refuses_while_dependents_are_enabled(make_kernel: MakeKernel) -> None:
    k = make_kernel(plugins=[plug("pa"), plug("pb", "pa"), plug("pc", "pb"), plug("pd")],
                    enabled=["pc", "pd"])
    with pytest.raises(PluginDependencyError) as info:
        k.host.plan_disable(["pa"])
    assert "cannot disable pa" in str(info.value)
    assert "pb, pc" in str(info.value)
    assert info.value.extra["dependents"] == ["pb", "pc"]
    assert k.host.enabled(refresh=True) == {"pa", "pb", "pc", "pd"}  # nothing changed

    assert k.host.plan_disable(["pc"]) == ["pc"]  # a leaf goes alone
    todo = k.host.plan_disable(["pa"], cascade=True)
    assert todo == ["pc", "pb", "pa"]  # dependents first
    k.host.set_enabled(todo, False)
    assert k.host.enabled(refresh=True) == {"pd"}


def test_dependency_cycle_is_a_startup_error_naming_the_path(make_kernel: MakeKernel) -> None:
    plugins = [plug("ca", "cb"), plug("cb", "cc"), plug("cc", "ca"), plug("cd", "ca"), plug("ok")]
    with pytest.raises(PluginError, match="plugin dependency cycle: ca → cb → cc → ca"):
        make_kernel(plugins=plugins)

    k = make_kernel(plugins=plugins, strict=False)
    for name in ("ca", "cb", "cc"):
        rec = k.host.record(name)
        assert rec.status == "failed"
        assert rec.error == "plugin dependency cycle: ca → cb → cc → ca"
    assert "cd depends on ca, which cannot run" in (k.host.record("cd").error or "")
    assert k.host.loaded() == ["ok"]
    with pytest.raises(PluginError, match="cycle"):
        k.host.plan_enable(["cb"])


def test_missing_dependency_is_a_startup_error(make_kernel: MakeKernel) -> None:
    plugins = [plug("needy", "ghost"), plug("ok")]
    with pytest.raises(PluginError, match="plugin needy depends on ghost, which is not installed"):
        make_kernel(plugins=plugins)

    k = make_kernel(plugins=plugins, strict=False)
    assert k.host.record("needy").status == "failed"
    assert k.host.loaded() == ["ok"]
    with pytest.raises(PluginError, match=r"needy cannot be enabled: .*ghost"):
        enable_plugins(k, ["needy"])
    assert enable_plugins(k, ["ok"]) == ["ok"]


def test_incompatible_requires_core(make_kernel: MakeKernel) -> None:
    future = plug("future", requires_core=">=99")
    why = "plugin future requires core >=99, but this is core 0.1.0"
    with pytest.raises(PluginError, match=re.escape(why)):
        make_kernel(plugins=[future, plug("ok")])

    k = make_kernel(plugins=[future, plug("ok")], strict=False)  # not enabled: contained
    assert k.host.record("future").status == "failed"
    assert k.host.record("future").error == why
    assert enable_plugins(k, ["ok"]) == ["ok"]

    with k.new_session(write=True) as s, s.begin():  # enabled in the database: startup error
        s.add(PluginState(name="future", enabled=True, version="0.1.0"))
    with pytest.raises(PluginError, match=re.escape(why)):
        make_kernel(plugins=[future, plug("ok")], strict=False)


# --- broken plugins -----------------------------------------------------------------------
def test_plugin_failing_on_import_is_contained(
    make_kernel: MakeKernel, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.syspath_prepend(str(FIXTURES))
    broken = Manifest(name="brokenplug", version="0.1.0", hooks="brokenplug.plugin")
    log: list[Any] = []
    plugins = [broken, plug("fine", log=log), plug("needsbroken", "brokenplug", log=log)]

    with caplog.at_level(logging.ERROR, logger="crm.plugins"):
        k = make_kernel(plugins=plugins, strict=False)
    rec = k.host.record("brokenplug")
    assert rec.status == "failed"
    assert "brokenplug exploded on import" in (rec.error or "")
    assert "plugin brokenplug failed" in caplog.text
    assert k.host.record("needsbroken").error == (
        "plugin needsbroken depends on brokenplug, which failed to load")
    assert k.host.loaded() == ["fine"]

    assert enable_plugins(k, ["fine"]) == ["fine"]
    with pytest.raises(PluginError, match="brokenplug cannot be enabled"):
        enable_plugins(k, ["brokenplug"])
    customer(k)
    find_matches(k.ctx(), name="ACME")
    assert log == [("fine", "customer.created"), "fine"]  # the rest keeps working

    with pytest.raises(PluginError, match=r"brokenplug failed to load.*exploded on import"):
        make_kernel(plugins=plugins)  # strict


def test_plugin_failing_while_declaring_is_contained(make_kernel: MakeKernel) -> None:
    class Boom:
        @hookimpl
        def register_permissions(self, kernel: Kernel) -> list[Action]:
            raise ValueError("no permissions today")

    plugins = [plug("boom", hooks=Boom()), plug("boomkid", "boom"), plug("ok")]
    k = make_kernel(plugins=plugins, strict=False)
    assert "no permissions today" in (k.host.record("boom").error or "")
    assert k.host.record("boomkid").error == "plugin boomkid depends on boom, which failed to load"
    assert k.host.loaded() == ["ok"]
    assert not k.host.pm.is_registered(plugins[0].hooks)
    with pytest.raises(PluginError, match="no permissions today"):
        make_kernel(plugins=plugins)


def test_misspelt_hook_fails_the_plugin(make_kernel: MakeKernel) -> None:
    class Typo:
        @hookimpl
        def on_entity_create(self, kernel: Kernel, event: Any) -> None:  # not a hook
            raise AssertionError("never called")

    class OptionalHooks:
        @hookimpl(optionalhook=True)
        def otherplugin_hook(self, kernel: Kernel) -> None:  # a hook of an absent plugin
            raise AssertionError("never called")

    plugins = [plug("typo", hooks=Typo()), plug("opt", hooks=OptionalHooks()), plug("ok")]
    k = make_kernel(plugins=plugins, strict=False)
    assert k.host.record("typo").status == "failed"
    assert k.host.record("typo").error == "plugin typo implements unknown hook(s) on_entity_create"
    assert k.host.loaded() == ["ok", "opt"]
    with pytest.raises(PluginError, match=r"plugin typo implements unknown hook.*on_entity_create"):
        make_kernel(plugins=plugins)


def test_async_first_result_hook_fails_the_plugin(make_kernel: MakeKernel) -> None:
    class AsyncActor:
        @hookimpl
        async def actor_from_request(self, kernel: Kernel, request: Any) -> Any:
            return None

    with pytest.raises(PluginError, match=r"first-result hook.*actor_from_request.*synchronous"):
        make_kernel(plugins=[plug("asyncactor", hooks=AsyncActor())])


# --- order --------------------------------------------------------------------------------
def test_hook_order_is_deterministic(make_kernel: MakeKernel) -> None:
    """Registration: dependencies first, ties alphabetical. Calls: the reverse (pluggy calls the
    last registered first), so a plugin runs before what it depends on; the kernel runs last."""
    log: list[Any] = []

    def plugins(*names: str) -> list[Manifest]:
        deps = {"mid": ("zeta",), "top": ("mid", "alpha")}
        return [plug(n, *deps.get(n, ()), log=log) for n in names]

    k = make_kernel(plugins=plugins("zeta", "top", "alpha", "mid", "base"),
                    enabled=["top", "base"])
    assert k.host.loaded() == ["alpha", "base", "zeta", "mid", "top"]
    k2 = make_kernel(plugins=plugins("base", "mid", "alpha", "top", "zeta"))
    assert k2.host.loaded() == k.host.loaded()  # independent of how plugins were found

    call_order = ["top", "mid", "zeta", "base", "alpha"]
    assert [i.plugin_name for i in k.host.impls("find_customer_matches")] == [*call_order, "core"]
    find_matches(k.ctx(), name="nobody")
    assert log == call_order
    log.clear()
    customer(k)
    assert log == [(n, "customer.created") for n in call_order]


# --- namespaces ---------------------------------------------------------------------------
def test_table_declared_by_two_plugins_is_an_error_naming_both(make_kernel: MakeKernel) -> None:
    class Shop:
        @hookimpl
        def register_entities(self, kernel: Kernel) -> list[EntityDecl]:
            return [EntityDecl("shop.extra_item", ShopExtraItem)]

    class ShopExtra:
        @hookimpl
        def register_entities(self, kernel: Kernel) -> list[EntityDecl]:
            return [EntityDecl("shop_extra.item", ShopExtraItem)]

    plugins = [plug("shop", hooks=Shop()), plug("shop_extra", hooks=ShopExtra())]
    msg = "table 'shop_extra_item' is declared by both shop and shop_extra"
    with pytest.raises(PluginError, match=re.escape(msg)):
        make_kernel(plugins=plugins)
    k = make_kernel(plugins=plugins, strict=False)
    assert k.host.record("shop_extra").error == msg
    assert k.tables["shop_extra_item"] == "shop"
    assert "shop_extra.item" not in k.entities


def test_permission_and_job_names_are_namespaced(make_kernel: MakeKernel) -> None:
    def job(kernel: Kernel, fire_key: str) -> None:
        pass

    class Unprefixed:
        @hookimpl
        def register_permissions(self, kernel: Kernel) -> list[Action]:
            return [Action("export", "导出", "Export")]

    class Twice:
        @hookimpl
        def register_permissions(self, kernel: Kernel) -> list[Action]:
            return [Action("twice.use", "用", "Use"), Action("twice.use", "用", "Use")]

    class ForeignJob:
        @hookimpl
        def register_jobs(self, kernel: Kernel) -> list[JobDecl]:
            return [JobDecl("core.outbox_retry", job)]

    class TwiceJob:
        @hookimpl
        def register_jobs(self, kernel: Kernel) -> list[JobDecl]:
            return [JobDecl("twicejob.tick", job), JobDecl("twicejob.tick", job)]

    cases = {
        "unprefixed": (Unprefixed, "plugin unprefixed: permission 'export' must start with unprefixed."),
        "twice": (Twice, "permission 'twice.use' is declared twice by twice"),
        "foreignjob": (ForeignJob,
                       "plugin foreignjob: job id 'core.outbox_retry' must start with foreignjob."),
        "twicejob": (TwiceJob, "job 'twicejob.tick' is declared twice by twicejob"),
    }
    for name, (hooks, msg) in cases.items():
        with pytest.raises(PluginError) as info:
            make_kernel(plugins=[plug(name, hooks=hooks())])
        assert str(info.value) == msg
    k = make_kernel(plugins=[plug(n, hooks=h()) for n, (h, _) in cases.items()], strict=False)
    assert {n: k.host.record(n).error for n in cases} == {n: m for n, (_, m) in cases.items()}
    assert k.jobs["core.outbox_retry"][1] == "core"
    assert not any(p in cases for _, p in k.actions.values())


def test_kernel_namespaces_are_reserved_plugin_names() -> None:
    """Distinct plugins can't share a permission or job id (``<plugin>.`` prefixes are
    disjoint), so the only clash left is with the kernel's own namespaces: reserved."""
    for action in KERNEL_ACTIONS:
        assert action.name.split(".")[0] in RESERVED_NAMES
    with pytest.raises(PluginError, match="plugin name 'customers' is reserved"):
        plug("customers")


# --- enabled state ------------------------------------------------------------------------
def test_toggle_is_followed_by_another_process_without_restart(make_kernel: MakeKernel) -> None:
    class Tog:
        def __init__(self) -> None:
            self.seen: list[str] = []

        @hookimpl
        def register_entities(self, kernel: Kernel) -> list[EntityDecl]:
            return [EntityDecl("togplug.note", TogplugNote)]

        @hookimpl
        def on_entity_created(self, kernel: Kernel, event: Any) -> None:
            self.seen.append(event.payload["name"])

    admin_side, worker_side = Tog(), Tog()
    ttl = 0.05
    admin = make_kernel(plugins=[plug("togplug", hooks=admin_side)])
    worker = make_kernel(plugins=[plug("togplug", hooks=worker_side)], plugin_refresh_seconds=ttl)

    def count_notes() -> int:
        with worker.new_session() as s:
            return s.scalar(select(func.count()).select_from(TogplugNote)) or 0

    def settle() -> None:
        time.sleep(ttl * 2)

    assert not worker.is_active("togplug")
    customer(worker, "before")
    assert worker_side.seen == []

    enable_plugins(admin, ["togplug"])
    settle()
    assert worker.is_active("togplug")
    customer(worker, "on")
    with worker.new_session(write=True) as s, s.begin():
        s.add(TogplugNote(body="kept"))

    admin.host.set_enabled(admin.host.plan_disable(["togplug"]), False)
    settle()
    assert not worker.is_active("togplug")
    customer(worker, "off")
    assert count_notes() == 1  # its data stays untouched

    enable_plugins(admin, ["togplug"])
    settle()
    customer(worker, "again")
    assert worker_side.seen == ["on", "again"]
    assert admin_side.seen == []  # each process delivers its own commits
    assert count_notes() == 1


def test_glue_plugin_switches_on_with_its_dependencies(make_kernel: MakeKernel) -> None:
    k = make_kernel(plugins=[plug("ga"), plug("gb"), plug("glue", "ga", "gb", auto_install=True),
                             plug("usesglue", "glue")])
    assert enable_plugins(k, ["ga"]) == ["ga"]
    assert enable_plugins(k, ["gb"]) == ["gb", "glue"]
    assert k.host.enabled(refresh=True) == {"ga", "gb", "glue"}

    # it goes off with a dependency, without --cascade: nobody switched it on by hand
    assert k.host.plan_disable(["ga"]) == ["glue", "ga"]
    k.host.set_enabled(k.host.plan_disable(["gb"]), False)
    assert k.host.enabled(refresh=True) == {"ga"}
    assert enable_plugins(k, ["gb", "usesglue"]) == ["gb", "glue", "usesglue"]
    with pytest.raises(PluginDependencyError, match="plugin\\(s\\) usesglue depend on it"):
        k.host.plan_disable(["ga"])


def test_plugin_hookspecs_let_dependents_extend_it(make_kernel: MakeKernel) -> None:
    class ExtSpecs:
        @staticmethod
        @hookspec
        def ext_sources(kernel: Kernel) -> list[str]:
            """Plugin ``ext``'s own hook."""

    class User:
        @hookimpl
        def ext_sources(self, kernel: Kernel) -> list[str]:
            return ["from user"]

    plugins = [plug("ext", hookspecs=ExtSpecs), plug("extuser", "ext", hooks=User())]
    k = make_kernel(plugins=plugins, enabled=["extuser"])
    assert k.host.hook_caller("ext_sources")(kernel=k) == [["from user"]]
    k.host.set_enabled(["extuser"], False)
    assert k.host.hook_caller("ext_sources")(kernel=k) == []


# --- discovery ----------------------------------------------------------------------------
def test_entry_point_discovery(
    crm_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(FIXTURES))
    group = host_module.ENTRY_POINT_GROUP
    eps = [
        EntryPoint("wrongname", "epplug.manifest:MANIFEST", group),
        EntryPoint("epplug", "epplug.manifest:MANIFEST", group),
        EntryPoint("notmanifest", "epplug.manifest:NOT_A_MANIFEST", group),
        EntryPoint("gone", "no_such_module_for_crm_tests:MANIFEST", group),
        EntryPoint("other", "epplug.manifest:MANIFEST", "some.other.group"),
    ]
    monkeypatch.setattr(host_module, "entry_points",
                        lambda group: [ep for ep in eps if ep.group == group])
    settings = settings_for(crm_database_url, plugin_refresh_seconds=0.0)

    k = Kernel(settings, autoload=True, strict=False)
    try:
        assert k.host.loaded() == ["epplug"]
        assert k.host.record("epplug").source == "entry point epplug.manifest:MANIFEST"
        assert k.actions["epplug.use"][1] == "epplug"
        errors = {n: r.error for n, r in k.host.records.items() if not r.ok}
        assert errors == {
            "notmanifest": "cannot load manifest of plugin notmanifest: entry point "
                           "epplug.manifest:NOT_A_MANIFEST must point to a crm_core Manifest, got dict",
            "gone": "cannot load manifest of plugin gone: No module named "
                    "'no_such_module_for_crm_tests'",
            "wrongname": "cannot load manifest of plugin wrongname: entry point 'wrongname' "
                         "gives a manifest named 'epplug'",
        }
        assert enable_plugins(k, ["epplug"]) == ["epplug"]
    finally:
        k.shutdown()

    with pytest.raises(PluginError, match="cannot load manifest of plugin gone"):
        Kernel(settings, autoload=True, strict=True)
    k = Kernel(settings, autoload=False, strict=True)  # autoload off: entry points ignored
    try:
        assert k.host.loaded() == []
    finally:
        k.shutdown()
