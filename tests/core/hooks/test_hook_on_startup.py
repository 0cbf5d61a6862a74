"""on_startup: called once per process on enabled plugins; errors isolated unless strict."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from crm_core.hookspecs import hookimpl
from crm_core.kernel import Kernel
from crm_core.plugin_system.manifest import Manifest


class Starter:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[Kernel] = []
        self.fail = fail

    @hookimpl
    def on_startup(self, kernel: Kernel) -> None:
        self.calls.append(kernel)
        if self.fail:
            raise RuntimeError("cannot start")


def plug(name: str, hooks: Starter) -> Manifest:
    return Manifest(name=name, version="0.1.0", hooks=hooks)


def test_hook_on_startup(make_kernel: Callable[..., Kernel]) -> None:
    on, off, broken = Starter(), Starter(), Starter(fail=True)
    k = make_kernel(plugins=[plug("starton", on), plug("startoff", off), plug("startzbad", broken)],
                    enabled=["starton", "startzbad"], strict=False)
    k.startup()
    k.startup()  # once per process
    assert on.calls == [k]  # called although startzbad, called first, raised
    assert broken.calls == [k]
    assert off.calls == []  # disabled: never called

    strict = make_kernel(plugins=[plug("startzbad", Starter(fail=True))], enabled=["startzbad"])
    with pytest.raises(RuntimeError, match="cannot start"):
        strict.startup()
