"""A served app per test, driven in-process: its lifespan by hand and requests through
``httpx.AsyncClient(transport=ASGITransport(app))`` on one event loop (no ``starlette.testclient``)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from crm_core.kernel import Kernel
from crm_core.plugin_system.manifest import Manifest
from crm_core.services.roles import seed_builtin_grants
from crm_core.testing_web import PASSWORD, Client, Site, add_user
from crm_core.web import create_app

HERE = Path(__file__).resolve().parent
__all__ = ["PASSWORD", "Client", "Site", "add_user"]


@pytest.fixture
def webplug(monkeypatch: pytest.MonkeyPatch) -> Manifest:
    monkeypatch.syspath_prepend(str(HERE))
    module = importlib.import_module("webplug")
    return Manifest(name="webplug", version="1.2.3", summary="web test plugin", hooks=module.Hooks())


@pytest.fixture
def web_kernel(make_kernel: Callable[..., Kernel], webplug: Manifest, tmp_path: Path) -> Kernel:
    """A kernel with the web test plugin enabled, the built-in roles, no scheduler, an empty
    instance folder, and the users ``admin``, ``rep`` (sales_rep), ``viewer`` and ``en_user``."""
    k = make_kernel(plugins=[webplug], enabled=["webplug"], scheduler_enabled=False,
                    instance_dir=str(tmp_path / "instance"))
    seed_builtin_grants(k.ctx())
    add_user(k, "admin", "admin", name="Ada Admin")
    add_user(k, "rep", "sales_rep", name="Rita Rep")
    add_user(k, "viewer", "viewer")
    add_user(k, "en_user", "sales_rep", locale="en", name="Eve English")
    return k


@pytest.fixture
def make_site(web_kernel: Kernel) -> Iterator[Callable[..., Site]]:
    """``make_site(**create_app_kwargs)``: another served app on the test kernel."""
    made: list[Site] = []

    def make(**kwargs: Any) -> Site:
        kwargs.setdefault("kernel", web_kernel)
        s = Site(create_app(**kwargs))
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


@pytest.fixture
def site(make_site: Callable[..., Site]) -> Site:
    return make_site()


@pytest.fixture
def client(site: Site) -> Client:
    return site.client()


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def make_user(web_kernel: Kernel) -> Callable[..., int]:
    """``make_user(login, *roles, locale="zh_CN", name="")`` → user id (password ``PASSWORD``)."""

    def make(login: str, *roles: str, **kwargs: Any) -> int:
        return add_user(web_kernel, login, *roles, **kwargs)

    return make
