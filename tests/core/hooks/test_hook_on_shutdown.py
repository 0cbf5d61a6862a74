"""on_shutdown: called on enabled plugins when a started kernel stops."""

from __future__ import annotations

from collections.abc import Callable

from crm_core.hookspecs import hookimpl
from crm_core.kernel import Kernel
from crm_core.plugin_system.manifest import Manifest


class Stopper:
    def __init__(self) -> None:
        self.events: list[str] = []

    @hookimpl
    def on_startup(self, kernel: Kernel) -> None:
        self.events.append("start")

    @hookimpl
    def on_shutdown(self, kernel: Kernel) -> None:
        assert kernel.started  # still usable: release what on_startup acquired
        self.events.append("stop")


def test_hook_on_shutdown(make_kernel: Callable[..., Kernel]) -> None:
    on, off = Stopper(), Stopper()
    plugins = [Manifest(name="stopon", version="0.1.0", hooks=on),
               Manifest(name="stopoff", version="0.1.0", hooks=off)]
    never_started = make_kernel(plugins=plugins, enabled=["stopon"])
    never_started.shutdown()
    assert on.events == []  # nothing to release

    k = make_kernel(plugins=plugins)
    k.startup()
    k.shutdown()
    k.shutdown()
    assert on.events == ["start", "stop"]
    assert off.events == []
