"""register_jobs: declared jobs reach ``kernel.jobs`` and the scheduler runs only enabled ones."""

from __future__ import annotations

from collections.abc import Callable

from crm_core.declarations import JobDecl
from crm_core.hookspecs import hookimpl
from crm_core.kernel import Kernel
from crm_core.migrate import enable_plugins
from crm_core.plugin_system.manifest import Manifest
from crm_core.scheduler import run_job

FIRES: list[str] = []


def tick(kernel: Kernel, fire_key: str) -> None:
    FIRES.append(fire_key)


TICK = JobDecl("hkjob.tick", tick, "cron", {"hour": 2}, misfire_grace_time=600,
               description="nightly tick")


class Hooks:
    @hookimpl
    def register_jobs(self, kernel: Kernel) -> list[JobDecl]:
        return [TICK]


def test_hook_register_jobs(make_kernel: Callable[..., Kernel]) -> None:
    FIRES.clear()
    k = make_kernel(plugins=[Manifest(name="hkjob", version="0.1.0", hooks=Hooks())])
    assert k.jobs["hkjob.tick"] == (TICK, "hkjob")
    assert k.jobs["core.outbox_retry"][1] == "core"

    assert run_job(k, "hkjob.tick", "2024-05-01T02:00:00Z") == "disabled"
    assert FIRES == []

    enable_plugins(k, ["hkjob"])
    assert run_job(k, "hkjob.tick", "2024-05-01T02:00:00Z") == "done"
    assert run_job(k, "hkjob.tick", "2024-05-01T02:00:00Z") == "duplicate"
    assert FIRES == ["2024-05-01T02:00:00Z"]

    k.host.set_enabled(["hkjob"], False)
    assert run_job(k, "hkjob.tick", "2024-05-02T02:00:00Z") == "disabled"
    assert FIRES == ["2024-05-01T02:00:00Z"]
