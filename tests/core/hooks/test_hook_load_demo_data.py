"""load_demo_data: called once per enabled plugin after the kernel's demo data, dependencies
first; the seed is passed through; an error stops the demo with the plugin's name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from crm_core.context import Ctx
from crm_core.demo import load_demo
from crm_core.errors import CRMError
from crm_core.hookspecs import hookimpl
from crm_core.kernel import Kernel
from crm_core.plugin_system.manifest import Manifest
from crm_core.services.customers import count_customers
from crm_core.services.roles import seed_builtin_grants


class Demo:
    def __init__(self, name: str, seen: list[tuple[str, int, int]], fail: bool = False) -> None:
        self.name, self.seen, self.fail = name, seen, fail

    @hookimpl
    def load_demo_data(self, ctx: Ctx, seed: int) -> None:
        if self.fail:
            raise RuntimeError("no demo for you")
        self.seen.append((self.name, seed, count_customers(ctx, {})[0]))


def plug(name: str, hooks: Any, depends: tuple[str, ...] = ()) -> Manifest:
    return Manifest(name=name, version="0.1.0", hooks=hooks, depends=depends)


def test_hook_load_demo_data(make_kernel: Callable[..., Kernel]) -> None:
    seen: list[tuple[str, int, int]] = []
    k = make_kernel(plugins=[plug("demoz", Demo("demoz", seen)),
                             plug("demoa", Demo("demoa", seen), depends=("demoz",)),
                             plug("demooff", Demo("demooff", seen))],
                    enabled=["demoa"])
    seed_builtin_grants(k.ctx())
    load_demo(k, customers=3, seed=7)
    # dependency order (demoz before its dependent demoa), after the 3 customers; demooff is off
    assert seen == [("demoz", 7, 3), ("demoa", 7, 3)]


def test_load_demo_data_error_names_the_plugin(make_kernel: Callable[..., Kernel]) -> None:
    k = make_kernel(plugins=[plug("demobad", Demo("demobad", [], fail=True))], enabled=["demobad"])
    seed_builtin_grants(k.ctx())
    with pytest.raises(CRMError, match="plugin demobad could not load its demo data: no demo for you"):
        load_demo(k, customers=1, seed=1)
