"""Hook stability: a deprecated hook keeps working as an alias of its replacement for at least a
minor version, and a plugin implementing it gets a DeprecationWarning naming the replacement;
requires_core is checked at load; CRM_TRACE_HOOKS logs every hook call with timing."""

from __future__ import annotations

import logging
import os
import warnings
from typing import Any

import pytest

from crm_core.errors import PluginError
from crm_core.hookspecs import HookDeprecationWarning, deprecated, hookimpl, hookspec
from crm_core.plugin_system.manifest import Manifest
from crm_core.settings import load_settings


class ProviderSpecs:
    """A plugin's hook contract at version 2: ``on_stock_low`` renamed to ``on_stock_short``."""

    @hookspec
    def on_stock_short(self, kernel: Any, sku: str, left: int) -> None:
        """Stock of ``sku`` fell to ``left``. Added in 2.0."""

    @deprecated(since="2.0", replacement="on_stock_short", removed_in="3.0")
    def on_stock_low(self, kernel: Any, sku: str) -> None:
        """Deprecated: use ``on_stock_short``."""


PROVIDER = Manifest(name="stock", version="2.0.0", hooks=object(), hookspecs=ProviderSpecs)


class OldHooks:
    def __init__(self) -> None:
        self.calls: list[str] = []

    @hookimpl
    def on_stock_low(self, sku: str) -> None:
        self.calls.append(f"low {sku}")


class NewHooks:
    def __init__(self) -> None:
        self.calls: list[str] = []

    @hookimpl
    def on_stock_short(self, sku: str, left: int) -> None:
        self.calls.append(f"short {sku} {left}")


def test_implementing_a_deprecated_hook_warns_and_still_works(make_kernel: Any,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    old, new = OldHooks(), NewHooks()
    plugins = [PROVIDER, Manifest(name="old_shop", version="1.0", depends=("stock",), hooks=old),
               Manifest(name="new_shop", version="1.0", depends=("stock",), hooks=new)]
    caplog.set_level(logging.WARNING, logger="crm.plugins")
    with pytest.warns(HookDeprecationWarning) as caught:
        k = make_kernel(plugins=plugins, enabled=["old_shop", "new_shop"])
    assert len(caught) == 1  # only the plugin implementing the old hook
    message = str(caught[0].message)
    assert "on_stock_low is deprecated since core 2.0" in message
    assert "implement on_stock_short instead" in message and "removed in 3.0" in message
    assert issubclass(caught[0].category, DeprecationWarning)
    assert any("old_shop" in r.getMessage() and "on_stock_short" in r.getMessage() for r in caplog.records)
    assert [d.hook for d in k.host.deprecated_hooks("old_shop")] == ["on_stock_low"]
    assert k.host.deprecated_hooks("new_shop") == []

    k.notify("on_stock_short", sku="A-1", left=3)  # the old implementation runs as an alias
    assert new.calls == ["short A-1 3"] and old.calls == ["low A-1"]

    k.host.set_enabled(["old_shop"], False)  # and a disabled plugin's alias does not
    k.notify("on_stock_short", sku="B-2", left=0)
    assert old.calls == ["low A-1"] and new.calls[-1] == "short B-2 0"


def test_deprecated_hook_is_an_error_where_warnings_are_errors(make_kernel: Any) -> None:
    plugins = [PROVIDER, Manifest(name="old_shop", version="1.0", depends=("stock",), hooks=OldHooks())]
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        with pytest.raises(PluginError, match="on_stock_short"):
            make_kernel(plugins=plugins)


def test_a_plugin_for_a_newer_core_is_not_loaded(make_kernel: Any) -> None:
    future = Manifest(name="future", version="1.0", requires_core=">=99", hooks=object())
    with pytest.raises(PluginError, match="future") as exc:
        make_kernel(plugins=[future])
    assert "requires" in str(exc.value) or "99" in str(exc.value)
    k = make_kernel(plugins=[future], strict=False)
    rec = k.host.records["future"]
    assert not rec.ok and "99" in (rec.error or "")


def test_trace_hooks_logs_each_call_with_timing(make_kernel: Any, caplog: pytest.LogCaptureFixture,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    class Slot:
        @hookimpl
        def on_startup(self, kernel: Any) -> None:
            pass

    monkeypatch.setenv("CRM_TRACE_HOOKS", "1")
    assert load_settings(env=dict(os.environ)).trace_hooks is True
    caplog.set_level(logging.INFO, logger="crm.hooks")
    k = make_kernel(plugins=[Manifest(name="slot", version="1.0", hooks=Slot())], enabled=["slot"],
                    trace_hooks=True)
    k.host.hook_caller("on_startup")(kernel=k)
    lines = [r.getMessage() for r in caplog.records if r.name == "crm.hooks"]
    assert any(line.startswith("hook on_startup [slot") and line.endswith(" ms") for line in lines), lines
    caplog.clear()
    k.notify("on_startup")  # the kernel's own one-by-one calls are traced too
    lines = [r.getMessage() for r in caplog.records if r.name == "crm.hooks"]
    assert any(line.startswith("hook on_startup [slot] ") for line in lines), lines

    caplog.clear()
    quiet = make_kernel(plugins=[Manifest(name="slot2", version="1.0", hooks=Slot())], enabled=["slot2"])
    quiet.host.hook_caller("on_startup")(kernel=quiet)
    quiet.notify("on_startup")
    assert not [r for r in caplog.records if r.name == "crm.hooks"]
