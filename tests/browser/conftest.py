"""Browser end-to-end tests: the real app served by uvicorn on loopback, driven by Playwright in
Debian's Chromium (``/usr/bin/chromium``; `.ci/run` installs it with apt, nothing is downloaded).

Screenshots land in ``test-artifacts/screenshots/`` (kept by CI as artifacts). Without Chromium
the tests are skipped locally, but fail under ``CI=true`` so a missing install can't hide.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, LiveServer

from crm_core.kernel import Kernel
from crm_core.services.roles import seed_builtin_grants


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if shutil.which(CHROMIUM) or Path(CHROMIUM).exists():
        return
    if os.environ.get("CI") == "true":
        raise pytest.UsageError(f"browser tests need Chromium at {CHROMIUM} (CI installs it)")
    skip = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM}")
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture
def browser_kernel(make_kernel: Callable[..., Kernel]) -> Kernel:
    kernel = make_kernel(scheduler_enabled=False)
    seed_builtin_grants(kernel.ctx())
    return kernel


@pytest.fixture
def live_server(browser_kernel: Kernel) -> Iterator[LiveServer]:
    server = LiveServer(browser_kernel)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def chromium() -> Iterator[Any]:
    # Per test, not per session: sync Playwright keeps an event loop running in this thread
    # while it is started, which would break the in-process web tests later in the worker.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    yield pg
    context.close()


@pytest.fixture
def shot(page: Any, request: pytest.FixtureRequest) -> Callable[[str], Path]:
    """``shot("step")`` saves a full-page screenshot named after the test and the step."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 1000))

    def take(step: str) -> Path:
        path = ARTIFACTS / f"{request.node.name}-{next(counter):02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


